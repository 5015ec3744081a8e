import { TRPCClientError } from "@trpc/client";
import { describe, expect, it } from "vitest";
import {
  appErrorCode,
  asSentence,
  errorCode,
  errorMessage,
  fieldErrors,
  fieldLabel,
  retryAfterSeconds,
  serverMessageToSentences,
} from "./api-errors";

/** An error as the client builds it from the server's JSON answer (see packages/api/src/trpc.ts). */
function fromServer(message: string, data: Record<string, unknown>) {
  return TRPCClientError.from({ error: { message, code: -32600, data } });
}

describe("api errors", () => {
  it("reads codes and the user message", () => {
    const error = fromServer("Wrong user name or password.", {
      code: "UNAUTHORIZED",
      appCode: "INVALID_CREDENTIALS",
    });
    expect(errorCode(error)).toBe("UNAUTHORIZED");
    expect(appErrorCode(error)).toBe("INVALID_CREDENTIALS");
    expect(errorMessage(error)).toBe("Wrong user name or password.");
  });

  it("takes the first message of each invalid field, as a sentence to show under the field", () => {
    const error = fromServer("username: must be at least 3 characters", {
      code: "BAD_REQUEST",
      zodError: { fieldErrors: { username: ["must be at least 3 characters", "second"], role: [] } },
    });
    expect(fieldErrors(error)).toEqual({ username: "Must be at least 3 characters." });
    expect(errorMessage(error)).toBe("Username: must be at least 3 characters.");
  });

  it.each([
    [{ code: "TOO_MANY_REQUESTS", retryAfterSeconds: 41.2 }, "Too many failed sign-in attempts.", 42],
    [{ code: "TOO_MANY_REQUESTS", retryAfterSeconds: null }, "Try again in 17 s.", 17],
    [{ code: "TOO_MANY_REQUESTS" }, "Slow down.", undefined],
  ])("retry after from %j and %j", (data, message, expected) => {
    expect(retryAfterSeconds(fromServer(message, data))).toBe(expected);
  });

  it("explains an unreachable server instead of showing a fetch error", () => {
    const error = TRPCClientError.from(new TypeError("Failed to fetch"));
    expect(errorCode(error)).toBeUndefined();
    expect(errorMessage(error)).toBe(
      "Cannot reach the Tapfleet server. Check that it is running and try again.",
    );
  });

  it("has a sentence for anything else", () => {
    expect(errorMessage("weird")).toBe("Something went wrong. Please try again.");
    expect(errorMessage(new Error("boom"))).toBe("Boom.");
  });
});

describe("asSentence", () => {
  it.each([
    ["too short", "Too short."],
    ["Wrong user name or password.", "Wrong user name or password."],
    ["  is it? ", "Is it?"],
    ["", ""],
  ])("%j → %j", (text, expected) => {
    expect(asSentence(text)).toBe(expected);
  });
});

describe("fieldLabel", () => {
  it.each([
    ["username", "Username"],
    ["expiresAt", "Expires at"],
    ["params.snapLength", "Params › snap length"],
    ["display_name", "Display name"],
  ])("%s → %s", (path, expected) => {
    expect(fieldLabel(path)).toBe(expected);
  });
});

describe("serverMessageToSentences", () => {
  it.each([
    ["username: too short", "Username: too short."],
    [
      "username: must be at least 3 characters; role: invalid option",
      "Username: must be at least 3 characters. Role: invalid option.",
    ],
    ["expiresAt: the expiry must be in the future.", "Expires at: the expiry must be in the future."],
    [
      "This is the last enabled admin; make another user admin first.",
      "This is the last enabled admin; make another user admin first.",
    ],
    ["Request body is not valid JSON: Unexpected token", "Request body is not valid JSON: Unexpected token."],
    ["internal server error", "Internal server error."],
  ])("%j → %j", (message, expected) => {
    expect(serverMessageToSentences(message)).toBe(expected);
  });
});
