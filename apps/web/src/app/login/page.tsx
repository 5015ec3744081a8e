import type { Metadata } from "next";
import { Suspense } from "react";
import { LoginScreen } from "@/features/login/login-screen";

export const metadata: Metadata = { title: "Sign in" };

export default function LoginPage() {
  // The form reads ?next= with useSearchParams, which needs a Suspense boundary on a static page.
  return (
    <Suspense>
      <LoginScreen />
    </Suspense>
  );
}
