import type { Metadata } from "next";
import { ProfilePage } from "@/features/configuration/profile-page";

export const metadata: Metadata = { title: "Profile" };

export default async function Page({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  return <ProfilePage profileId={decodeURIComponent(id)} />;
}
