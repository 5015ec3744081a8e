import type { Metadata } from "next";
import { ConfigurationPage } from "@/features/configuration/configuration-page";

export const metadata: Metadata = { title: "Configuration" };

export default function Page() {
  return <ConfigurationPage />;
}
