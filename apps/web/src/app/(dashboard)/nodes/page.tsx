import type { Metadata } from "next";
import { Suspense } from "react";
import { NodesPage } from "@/features/nodes/nodes-page";

export const metadata: Metadata = { title: "Nodes" };

export default function Page() {
  // The filters are read with useSearchParams, which needs a Suspense boundary on a static page.
  return (
    <Suspense>
      <NodesPage />
    </Suspense>
  );
}
