"use client";

import { createContext, use } from "react";
import type { RouterOutputs } from "@/lib/trpc";

export type CurrentUser = NonNullable<RouterOutputs["auth"]["me"]["user"]>;

const CurrentUserContext = createContext<CurrentUser | null>(null);

export const CurrentUserProvider = CurrentUserContext.Provider;

/** The signed-in user. Only valid below the dashboard shell, which renders nothing until the session is known. */
export function useCurrentUser(): CurrentUser {
  const user = use(CurrentUserContext);
  if (!user) throw new Error("useCurrentUser is used outside the dashboard shell");
  return user;
}
