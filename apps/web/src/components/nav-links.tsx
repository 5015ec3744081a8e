"use client";

import { NavLink } from "@mantine/core";
import {
  IconAccessPoint,
  IconAdjustmentsHorizontal,
  IconCpu,
  IconHistory,
  IconKey,
  IconRadar,
  IconRocket,
  IconServer2,
  IconSettings,
  IconUsers,
  type Icon,
} from "@tabler/icons-react";
import Link from "next/link";
import { usePathname } from "next/navigation";
import { roleAtLeast, type Role } from "@/lib/roles";
import { activeNavHref } from "./nav-active";

interface NavItem {
  label: string;
  href: string;
  icon: Icon;
  /** Hidden from roles below this one: the page would only say "you need the admin role". */
  minimumRole?: Role;
}

// Only pages that do something are listed: a feature gets its entry when its page exists.
const mainItems: NavItem[] = [
  { label: "Fleet", href: "/fleet", icon: IconRadar },
  { label: "Clusters", href: "/clusters", icon: IconServer2 },
  { label: "Nodes", href: "/nodes", icon: IconCpu },
  { label: "Sensors", href: "/sensors", icon: IconAccessPoint },
  { label: "Configuration", href: "/configuration", icon: IconAdjustmentsHorizontal },
  { label: "Rollouts", href: "/rollouts", icon: IconRocket },
];

const settingsItems: NavItem[] = [
  { label: "Users", href: "/settings/users", icon: IconUsers, minimumRole: "admin" },
  { label: "API tokens", href: "/settings/tokens", icon: IconKey },
  { label: "Audit log", href: "/settings/audit", icon: IconHistory, minimumRole: "admin" },
];

const allHrefs = [...mainItems, ...settingsItems].map((item) => item.href);

export function NavLinks({ role, onNavigate }: { role: Role; onNavigate: () => void }) {
  const pathname = usePathname();
  const visible = (item: NavItem) => !item.minimumRole || roleAtLeast(role, item.minimumRole);
  const current = activeNavHref(pathname, allHrefs);
  const link = (item: NavItem) => {
    const active = item.href === current;
    return (
      <NavLink
        key={item.href}
        component={Link}
        href={item.href}
        // Every section is rendered on the server with live data: prefetching them all after each
        // page load cost the server about eighteen renders per page view, for pages that are read
        // again when opened. A click loads its page.
        prefetch={false}
        label={item.label}
        leftSection={<item.icon size={18} stroke={1.6} />}
        active={active}
        aria-current={active ? "page" : undefined}
        onClick={onNavigate}
      />
    );
  };
  return (
    <>
      {mainItems.filter(visible).map(link)}
      {/* Settings stays expanded by default: its sub-pages are where day-one work (users, tokens) happens. */}
      <NavLink
        label="Settings"
        leftSection={<IconSettings size={18} stroke={1.6} />}
        defaultOpened
        active={activeNavHref(pathname, ["/settings"]) !== undefined}
        variant="subtle"
      >
        {settingsItems.filter(visible).map(link)}
      </NavLink>
    </>
  );
}
