import type { Metadata } from "next";
import { SensorDetailPage } from "@/features/sensor-detail/sensor-detail-page";

export const metadata: Metadata = { title: "Sensor" };

export default async function Page({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  return <SensorDetailPage sensorId={id} />;
}
