import type { Metadata } from "next";
import { RolloutPage } from "@/features/rollouts/rollout-page";

export const metadata: Metadata = { title: "Rollout" };

export default async function Page({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  return <RolloutPage rolloutId={decodeURIComponent(id)} />;
}
