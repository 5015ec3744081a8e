"use client";

// The cluster page's "Sensor" section: what Tapfleet installed or adopted
// (objects, rollout counts, drift, the profile revision in force), install,
// uninstall and release for admins, and the YAML export for GitOps users —
// after an install, or before one from the install dialog.

import {
  Alert,
  Badge,
  Button,
  Code,
  Group,
  Modal,
  NumberInput,
  Paper,
  ScrollArea,
  SegmentedControl,
  Stack,
  Switch,
  Text,
  TextInput,
} from "@mantine/core";
import { useClipboard } from "@mantine/hooks";
import { IconCopy, IconDownload, IconHandOff, IconTrash, IconUpload } from "@tabler/icons-react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useState } from "react";
import { useCurrentUser } from "@/components/current-user";
import { roleAtLeast } from "@/lib/roles";
import { useTRPC } from "@/lib/trpc";
import { useDefaultCollector } from "../clusters/use-default-collector";
import { SensorDriftBanner } from "../sensor-drift/drift-banner";

const STATE_COLOR = { present: "green", replaced: "orange", missing: "red" } as const;

export function SensorInstallSection({ clusterId }: { clusterId: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const user = useCurrentUser();
  const isAdmin = roleAtLeast(user.role, "admin");
  const status = useQuery(
    trpc.sensorInstall.status.queryOptions({ id: clusterId }, { refetchInterval: 5000 }),
  );
  const [installing, setInstalling] = useState(false);
  const [exporting, setExporting] = useState(false);
  const refresh = () => queryClient.invalidateQueries({ queryKey: trpc.sensorInstall.status.queryKey() });
  const uninstall = useMutation(trpc.sensorInstall.uninstall.mutationOptions({ onSuccess: refresh }));
  const release = useMutation(trpc.sensorInstall.release.mutationOptions({ onSuccess: refresh }));
  const data = status.data;
  const adopted = data?.origin === "adopted";

  return (
    <Paper withBorder p="md" radius="md" role="group" aria-label="Sensor installed by Tapfleet" mt="md">
      <Group justify="space-between" mb="xs">
        <Text size="xs" c="dimmed" tt="uppercase" fw={700}>
          {adopted ? "Sensor adopted by Tapfleet" : "Sensor installed by Tapfleet"}
        </Text>
        <Group gap="xs">
          {data?.installed && !adopted ? (
            <Button
              size="xs"
              variant="default"
              leftSection={<IconDownload size={14} />}
              onClick={() => setExporting(true)}
            >
              Export YAML
            </Button>
          ) : null}
          {isAdmin && !adopted ? (
            <Button size="xs" leftSection={<IconUpload size={14} />} onClick={() => setInstalling(true)}>
              {data?.installed ? "Re-install" : "Install the sensor"}
            </Button>
          ) : null}
          {isAdmin && data?.installed ? (
            <Button
              size="xs"
              color="red"
              variant="light"
              leftSection={<IconTrash size={14} />}
              loading={uninstall.isPending}
              onClick={() => {
                if (
                  window.confirm(
                    adopted
                      ? `Delete the adopted DaemonSet ${data.namespace}/${data.name} (and so its pods)${createdForAdopted(data.objects)}? Nothing else is removed.`
                      : "Remove every object Tapfleet installed in this cluster?",
                  )
                )
                  uninstall.mutate({ id: clusterId });
              }}
            >
              Uninstall
            </Button>
          ) : null}
          {isAdmin && data?.installed ? (
            <Button
              size="xs"
              variant="default"
              leftSection={<IconHandOff size={14} />}
              loading={release.isPending}
              title="Tapfleet stops managing the sensor; every object stays in the cluster"
              onClick={() => {
                if (window.confirm("Stop managing the sensor? Nothing is deleted from the cluster."))
                  release.mutate({ id: clusterId });
              }}
            >
              Release
            </Button>
          ) : null}
        </Group>
      </Group>
      {uninstall.error ? (
        <Alert color="red" mb="xs" title="Uninstall refused">
          {uninstall.error.message}
        </Alert>
      ) : null}
      {release.error ? (
        <Alert color="red" mb="xs" title="Release refused">
          {release.error.message}
        </Alert>
      ) : null}
      {release.data?.note ? (
        <Alert color="orange" mb="xs" title="Released">
          {release.data.note}
        </Alert>
      ) : null}
      <SensorDriftBanner clusterId={clusterId} />
      {status.isPending ? (
        <Text size="sm" c="dimmed">
          Loading…
        </Text>
      ) : status.isError ? (
        <Text size="sm" c="red">
          {status.error.message}
        </Text>
      ) : !data?.installed ? (
        <Text size="sm" c="dimmed">
          Tapfleet has not installed the sensor here.{" "}
          {isAdmin
            ? "Install it from the button above, or adopt a sensor DaemonSet found below."
            : "An admin can install it, or adopt a sensor DaemonSet found below."}
        </Text>
      ) : (
        <Stack gap="xs">
          {adopted ? (
            <Text size="sm">
              Adopted DaemonSet <Code>{`${data.namespace}/${data.name}`}</Code> · <Code>{data.image}</Code> ·
              capture {data.captureMode === "capabilities" ? "with capabilities" : "privileged"} · by{" "}
              {data.installedBy}.{" "}
              {createdForAdopted(data.objects) === ""
                ? "Tapfleet manages the DaemonSet only; its ServiceAccount, RBAC and Secrets stay the cluster's."
                : "Tapfleet manages the DaemonSet and the key Secret its rollout created (Uninstall removes both, Release leaves both); the ServiceAccount, RBAC and other Secrets stay the cluster's."}
            </Text>
          ) : (
            <Text size="sm">
              Revision {data.revision} · <Code>{data.image}</Code> in namespace <Code>{data.namespace}</Code>{" "}
              · capture{" "}
              {data.captureMode === "capabilities" ? "with NET_RAW and NET_ADMIN only" : "privileged"}
              {data.networkPolicy ? " · NetworkPolicy" : ""} · by {data.installedBy}
            </Text>
          )}
          {data.profile ? (
            <Text size="sm" aria-label="Profile revision">
              Profile{" "}
              <Text span component={Link} href={`/configuration/${data.profile.id}`} c="blue" fw={600}>
                {data.profile.name}
              </Text>{" "}
              revision r{data.profile.revision}
            </Text>
          ) : null}
          {data.rollout ? (
            <Text size="sm" aria-label="Rollout">
              Pods: desired {data.rollout.desired} · ready {data.rollout.ready} · updated{" "}
              {data.rollout.updated} · available {data.rollout.available}
            </Text>
          ) : null}
          {!data.reachable ? <Alert color="orange">{data.error}</Alert> : null}
          <Group gap={6}>
            {data.objects.map((object) => (
              <Badge
                key={`${object.kind}/${object.namespace ?? ""}/${object.name}`}
                color={STATE_COLOR[object.state]}
                variant="light"
                tt="none"
                title={object.state}
              >
                {object.kind} {object.name}
              </Badge>
            ))}
          </Group>
          {data.objects.some((object) => object.state !== "present") ? (
            <Alert color="orange" title="Differs from what was installed">
              {data.objects
                .filter((object) => object.state !== "present")
                .map((object) => `${object.kind} ${object.name} is ${object.state}`)
                .join("; ")}
            </Alert>
          ) : null}
        </Stack>
      )}
      {isAdmin ? (
        <InstallModal
          clusterId={clusterId}
          opened={installing}
          initial={data?.installed ? { image: data.image ?? "", namespace: data.namespace ?? "" } : undefined}
          onClose={() => setInstalling(false)}
          onInstalled={() => {
            setInstalling(false);
            void refresh();
          }}
        />
      ) : null}
      <ExportModal
        clusterId={clusterId}
        opened={exporting}
        isAdmin={isAdmin}
        onClose={() => setExporting(false)}
      />
    </Paper>
  );
}

function InstallModal(props: {
  clusterId: string;
  opened: boolean;
  initial: { image: string; namespace: string } | undefined;
  onClose: () => void;
  onInstalled: () => void;
}) {
  const trpc = useTRPC();
  // The server's public address (TAPFLEET_PUBLIC_URL), or a guess from this page's, until edited.
  const suggested = useDefaultCollector();
  const [editedHost, setCollectorHost] = useState<string | null>(null);
  const [editedPort, setCollectorPort] = useState<number | string | null>(null);
  const collectorHost = editedHost ?? suggested.host;
  const collectorPort = editedPort ?? Number(suggested.port);
  const [image, setImage] = useState(props.initial?.image ?? "tapfleet/agent:latest");
  const [namespace, setNamespace] = useState(props.initial?.namespace ?? "tapfleet-sensor");
  const [captureMode, setCaptureMode] = useState<"privileged" | "capabilities">("capabilities");
  const [networkPolicy, setNetworkPolicy] = useState(false);
  const install = useMutation(trpc.sensorInstall.install.mutationOptions({ onSuccess: props.onInstalled }));
  const manifests = useMutation(trpc.sensorInstall.manifestsPreview.mutationOptions());
  const clipboard = useClipboard({ timeout: 2000 });
  const options = {
    id: props.clusterId,
    settings: { collectorHost, collectorPort: Number(collectorPort) },
    image,
    namespace,
    captureMode,
    networkPolicy,
  };
  const fieldErrors = (
    (install.error ?? manifests.error)?.data as
      { zodError?: { fieldErrors?: Record<string, string[]> } } | undefined
  )?.zodError?.fieldErrors;
  /** Export before install: the YAML this install would apply, for GitOps users. */
  const withYaml = (use: (yaml: string) => void) => {
    install.reset();
    manifests.mutate(options, { onSuccess: (answer) => use(answer.yaml) });
  };
  const download = (yaml: string) => {
    const url = URL.createObjectURL(new Blob([yaml], { type: "application/yaml" }));
    const link = document.createElement("a");
    link.href = url;
    link.download = `tapfleet-sensor-${props.clusterId}.yaml`;
    link.click();
    URL.revokeObjectURL(url);
  };

  return (
    <Modal opened={props.opened} onClose={props.onClose} title="Install the sensor" size="lg">
      <form
        onSubmit={(event) => {
          event.preventDefault();
          manifests.reset();
          install.mutate(options);
        }}
      >
        <Stack>
          <Group grow align="flex-start">
            <TextInput
              label="Collector host"
              description={
                suggested.configured
                  ? "Where the agents report (VSENSOR_HOSTNAME); by default the server's TAPFLEET_PUBLIC_URL"
                  : "Where the agents report (VSENSOR_HOSTNAME); guessed from this page while TAPFLEET_PUBLIC_URL is unset"
              }
              required
              value={collectorHost}
              onChange={(event) => setCollectorHost(event.currentTarget.value)}
              error={fieldErrors?.settings?.join(" ")}
            />
            <NumberInput
              label="Collector port"
              min={1}
              max={65535}
              value={collectorPort}
              onChange={setCollectorPort}
            />
          </Group>
          <TextInput
            label="Image"
            required
            value={image}
            onChange={(event) => setImage(event.currentTarget.value)}
            error={fieldErrors?.image?.join(" ")}
          />
          <TextInput
            label="Namespace"
            required
            value={namespace}
            onChange={(event) => setNamespace(event.currentTarget.value)}
            error={fieldErrors?.namespace?.join(" ")}
          />
          <div>
            <Text size="sm" fw={500} mb={4}>
              Capture container
            </Text>
            <SegmentedControl
              value={captureMode}
              onChange={(value) => setCaptureMode(value)}
              data={[
                { value: "capabilities", label: "NET_RAW + NET_ADMIN only" },
                { value: "privileged", label: "Privileged" },
              ]}
            />
          </div>
          <Switch
            label="NetworkPolicy: the sensor may reach only DNS and the collector"
            checked={networkPolicy}
            onChange={(event) => setNetworkPolicy(event.currentTarget.checked)}
          />
          {install.error && !fieldErrors ? (
            <Alert color="red" title="Install refused">
              {install.error.message}
            </Alert>
          ) : null}
          {manifests.error && !fieldErrors ? (
            <Alert color="red" title="No YAML">
              {manifests.error.message}
            </Alert>
          ) : null}
          <Text size="xs" c="dimmed">
            GitOps: the YAML holds the objects this install would apply (without the Secret with the ingest
            key; its header shows how to create it). <Code>kubectl apply -f</Code> of it gives what Tapfleet
            installs.
          </Text>
          <Group justify="space-between">
            <Group gap="xs">
              <Button
                variant="default"
                leftSection={<IconDownload size={14} />}
                loading={manifests.isPending}
                onClick={() => withYaml(download)}
              >
                Download YAML
              </Button>
              <Button
                variant="default"
                leftSection={<IconCopy size={14} />}
                onClick={() => withYaml((yaml) => clipboard.copy(yaml))}
              >
                {clipboard.copied ? "Copied" : "Copy YAML"}
              </Button>
            </Group>
            <Group gap="xs">
              <Button variant="default" onClick={props.onClose}>
                Cancel
              </Button>
              <Button type="submit" loading={install.isPending}>
                Install
              </Button>
            </Group>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}

function ExportModal(props: { clusterId: string; opened: boolean; isAdmin: boolean; onClose: () => void }) {
  const trpc = useTRPC();
  const [includeSecret, setIncludeSecret] = useState(false);
  const manifests = useQuery(
    trpc.sensorInstall.manifests.queryOptions(
      { id: props.clusterId, includeSecret: includeSecret ? "true" : "false" },
      { enabled: props.opened },
    ),
  );
  return (
    <Modal opened={props.opened} onClose={props.onClose} title="The sensor as YAML" size="xl">
      <Stack>
        <Text size="sm">
          Apply it with <Code>kubectl apply -f</Code>: the result is what Tapfleet installs, and Tapfleet does
          not see it as drift.
        </Text>
        {props.isAdmin ? (
          <Switch
            label="Include the Secret with the ingest key"
            checked={includeSecret}
            onChange={(event) => setIncludeSecret(event.currentTarget.checked)}
          />
        ) : null}
        <ScrollArea h={420}>
          <Code block aria-label="Sensor YAML">
            {manifests.data?.yaml ?? (manifests.isError ? manifests.error.message : "Loading…")}
          </Code>
        </ScrollArea>
      </Stack>
    </Modal>
  );
}

/** The objects Tapfleet created for an adopted DaemonSet (its key Secret), as the uninstall confirmation names them. */
function createdForAdopted(objects: Array<{ kind: string; name: string }>): string {
  const created = objects.filter((object) => object.kind !== "DaemonSet");
  return created.length === 0
    ? ""
    : ` and what Tapfleet created for it: ${created.map((object) => `${object.kind} ${object.name}`).join(", ")}`;
}
