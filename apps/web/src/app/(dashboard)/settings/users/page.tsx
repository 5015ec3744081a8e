import type { Metadata } from "next";
import { UsersSettings } from "@/features/users/users-settings";

export const metadata: Metadata = { title: "Users" };

export default function Page() {
  return <UsersSettings />;
}
