"use client";

import {
  Alert,
  Button,
  Group,
  Modal,
  MultiSelect,
  NumberInput,
  Select,
  SimpleGrid,
  Stack,
  Text,
  TextInput,
} from "@mantine/core";
import { IconInfoCircle } from "@tabler/icons-react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { useState, type FormEvent } from "react";
import { FormError } from "@/components/status-blocks";
import { fieldErrors } from "@/lib/api-errors";
import { useTRPC } from "@/lib/trpc";
import { readPodCount } from "./rollout-form";

/**
 * Start a rollout: a profile revision, the clusters, and the strategy (canaries, wave size, the
 * DaemonSets' maxUnavailable and maxSurge, the health gate's deadline). The server checks it all
 * with the same schema the REST API uses; its field errors show under their fields.
 */
export function StartRolloutModal({
  opened,
  onClose,
  profileId: fixedProfileId,
  revision: fixedRevision,
}: {
  opened: boolean;
  onClose: () => void;
  profileId?: string;
  revision?: number;
}) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const router = useRouter();
  const [profileId, setProfileId] = useState<string | null>(fixedProfileId ?? null);
  const [revision, setRevision] = useState<string | null>(fixedRevision ? String(fixedRevision) : null);
  const [clusterIds, setClusterIds] = useState<string[]>([]);
  const [canaryClusterIds, setCanaryClusterIds] = useState<string[]>([]);
  const [waveSize, setWaveSize] = useState<number | string>(1);
  const [maxUnavailable, setMaxUnavailable] = useState("1");
  const [maxSurge, setMaxSurge] = useState("0");
  const [gateSeconds, setGateSeconds] = useState<number | string>(300);
  const [image, setImage] = useState("");

  const profiles = useQuery({ ...trpc.profiles.list.queryOptions(), enabled: opened });
  const profile = useQuery({
    ...trpc.profiles.get.queryOptions({ id: profileId ?? "" }),
    enabled: opened && profileId !== null,
  });
  const clusters = useQuery({ ...trpc.clusters.list.queryOptions(), enabled: opened });

  const start = useMutation(
    trpc.rollouts.start.mutationOptions({
      onSuccess: async (rollout) => {
        await queryClient.invalidateQueries({ queryKey: trpc.rollouts.list.queryKey() });
        onClose();
        router.push(`/rollouts/${rollout.id}`);
      },
    }),
  );
  const serverErrors = fieldErrors(start.error);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!profileId || !revision) return;
    start.mutate({
      profileId,
      revision: Number(revision),
      clusterIds,
      ...(image.trim() ? { image: image.trim() } : {}),
      strategy: {
        canaryClusterIds: canaryClusterIds.filter((id) => clusterIds.includes(id)),
        waveSize: Number(waveSize),
        maxUnavailable: readPodCount(maxUnavailable),
        maxSurge: readPodCount(maxSurge),
        gateSeconds: Number(gateSeconds),
      },
    });
  };

  const revisionOptions = (profile.data?.revisions ?? []).map((r) => ({
    value: String(r.number),
    label: `r${r.number} · ${r.message}`,
  }));
  const clusterOptions = (clusters.data?.items ?? []).map((c) => ({
    value: c.id,
    label: c.displayName ? `${c.displayName} (${c.id})` : c.id,
    disabled: c.connection === null,
  }));

  return (
    <Modal opened={opened} onClose={onClose} title="Start a rollout" size="lg">
      <form onSubmit={submit} noValidate>
        <Stack gap="md">
          <Alert variant="light" color="blue" icon={<IconInfoCircle />}>
            Each cluster must have a sensor Tapfleet manages (installed or adopted). Its DaemonSet gets the
            revision&apos;s settings, and Kubernetes replaces the sensor pods node by node.
          </Alert>
          <SimpleGrid cols={2}>
            <Select
              label="Profile"
              required
              searchable
              data={(profiles.data?.items ?? []).map((p) => ({ value: p.id, label: p.name }))}
              value={profileId}
              onChange={(value) => {
                setProfileId(value);
                const latest = profiles.data?.items.find((p) => p.id === value)?.latestRevision;
                setRevision(latest ? String(latest) : null);
              }}
              placeholder="Choose a profile"
              disabled={fixedProfileId !== undefined}
              error={serverErrors.profileId}
              nothingFoundMessage="No profile of that name"
            />
            <Select
              label="Revision"
              required
              data={revisionOptions}
              value={revision}
              onChange={setRevision}
              placeholder={profileId === null ? "Choose a profile first" : "Choose a revision"}
              disabled={profileId === null}
              error={serverErrors.revision}
            />
          </SimpleGrid>
          <MultiSelect
            label="Clusters"
            description="A cluster without a Kubernetes connection cannot be changed: it is listed but cannot be chosen."
            required
            searchable
            data={clusterOptions}
            placeholder={clusterIds.length === 0 ? "Choose the clusters to change" : undefined}
            value={clusterIds}
            onChange={(value) => {
              setClusterIds(value);
              setCanaryClusterIds((current) => current.filter((id) => value.includes(id)));
            }}
            error={serverErrors.clusterIds}
            nothingFoundMessage="No cluster of that name"
          />
          <MultiSelect
            label="Canary clusters"
            description="Changed first and gated before any other cluster starts. Optional."
            data={clusterOptions.filter((option) => clusterIds.includes(option.value))}
            placeholder={clusterIds.length < 2 ? "Choose two clusters or more first" : undefined}
            value={canaryClusterIds}
            onChange={setCanaryClusterIds}
            disabled={clusterIds.length < 2}
          />
          <SimpleGrid cols={2}>
            <NumberInput
              label="Clusters per wave"
              description="After the canaries, how many clusters change at once."
              min={1}
              max={100}
              allowDecimal={false}
              value={waveSize}
              onChange={setWaveSize}
            />
            <NumberInput
              label="Health gate deadline (seconds)"
              description="How long each cluster has to prove healthy."
              min={10}
              max={3600}
              allowDecimal={false}
              value={gateSeconds}
              onChange={setGateSeconds}
            />
            <TextInput
              label="maxUnavailable"
              description='Per DaemonSet: pods down at once, a number or "25%".'
              value={maxUnavailable}
              onChange={(event) => setMaxUnavailable(event.currentTarget.value)}
            />
            <TextInput
              label="maxSurge"
              description="Per DaemonSet: new pods started before the old ones stop."
              value={maxSurge}
              onChange={(event) => setMaxSurge(event.currentTarget.value)}
            />
          </SimpleGrid>
          <TextInput
            label="Image"
            description="Optional. Leave empty to keep each DaemonSet's own image."
            placeholder="registry.example.com/tapfleet/agent:1.4.0"
            value={image}
            onChange={(event) => setImage(event.currentTarget.value)}
            error={serverErrors.image}
          />
          {serverErrors.strategy ? (
            <Text size="sm" c="red">
              Strategy: {serverErrors.strategy}
            </Text>
          ) : null}
          <FormError error={start.error} />
          <Group justify="flex-end">
            <Button variant="default" onClick={onClose}>
              Cancel
            </Button>
            <Button
              type="submit"
              loading={start.isPending}
              disabled={!profileId || !revision || clusterIds.length === 0}
            >
              Start rollout
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
