import type { Metadata } from "next";
import { Suspense } from "react";
import { SensorsPage } from "@/features/sensors/sensors-page";

export const metadata: Metadata = { title: "Sensors" };

export default function Page() {
  // The cluster filter is read with useSearchParams, which needs a Suspense boundary on a static page.
  return (
    <Suspense>
      <SensorsPage />
    </Suspense>
  );
}
