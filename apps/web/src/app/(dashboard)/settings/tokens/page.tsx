import type { Metadata } from "next";
import { TokensSettings } from "@/features/tokens/tokens-settings";

export const metadata: Metadata = { title: "API tokens" };

export default function Page() {
  return <TokensSettings />;
}
