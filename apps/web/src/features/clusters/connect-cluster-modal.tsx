"use client";

import {
  Alert,
  Button,
  Code,
  FileButton,
  Fieldset,
  Group,
  Modal,
  Select,
  Stack,
  Text,
  Textarea,
} from "@mantine/core";
import { useDebouncedValue } from "@mantine/hooks";
import { IconAlertTriangle, IconUpload } from "@tabler/icons-react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState, type FormEvent } from "react";
import { FormError } from "@/components/status-blocks";
import { fieldErrors } from "@/lib/api-errors";
import { useTRPC, type RouterOutputs } from "@/lib/trpc";

type Field = "kubeconfig" | "context";

/**
 * The server's field errors, keeping a leading kubeconfig path as written: `users[0].user.exec`,
 * not the sentence case `Users[0]…` that would name a key the file does not have.
 */
function connectionErrors(error: unknown): Partial<Record<Field, string>> {
  const found: Partial<Record<Field, string>> = fieldErrors(error);
  const keepPath = (text: string) =>
    text.replace(
      /^([A-Z])([\w-]*(?:\[\d+\]|\.[\w-]))/,
      (_all, first: string, rest: string) => first.toLowerCase() + rest,
    );
  if (found.kubeconfig) found.kubeconfig = keepPath(found.kubeconfig);
  return found;
}
type KubeconfigContext = RouterOutputs["clusters"]["kubeconfigContexts"]["contexts"][number];

/** What the server tells the user to use instead of an exec plugin; repeated here as commands to copy. */
const SERVICE_ACCOUNT_COMMANDS = `kubectl create namespace tapfleet
kubectl create serviceaccount tapfleet -n tapfleet
kubectl create clusterrole tapfleet-reader --verb=get,list,watch --resource=nodes,pods,pods/log,events,daemonsets.apps
kubectl create clusterrolebinding tapfleet-reader --clusterrole=tapfleet-reader --serviceaccount=tapfleet:tapfleet
kubectl create token tapfleet -n tapfleet --duration=8760h`;

/**
 * Connects a cluster through a kubeconfig, pasted or uploaded: the server lists its contexts,
 * and tests the chosen one before storing it. Nothing of the kubeconfig is ever shown back.
 */
export function ConnectClusterModal({
  clusterId,
  editing,
  onClose,
}: {
  clusterId: string | null;
  /** The connection being replaced, if any: its context is chosen again by default. */
  editing?: { context: string } | null | undefined;
  onClose: () => void;
}) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [kubeconfig, setKubeconfig] = useState("");
  const [fileName, setFileName] = useState<string | null>(null);
  const [context, setContext] = useState<string | null>(null);
  const [contexts, setContexts] = useState<KubeconfigContext[]>([]);
  const [errors, setErrors] = useState<Partial<Record<Field, string>>>({});
  const [debounced] = useDebouncedValue(kubeconfig, 300);
  // The title keeps naming the cluster while the modal fades out after clusterId went back to null.
  const [shown, setShown] = useState({ clusterId, editing: Boolean(editing) });
  if (clusterId !== null && (clusterId !== shown.clusterId || Boolean(editing) !== shown.editing))
    setShown({ clusterId, editing: Boolean(editing) });

  const inspect = useMutation(
    trpc.clusters.kubeconfigContexts.mutationOptions({
      onSuccess: (result) => {
        setContexts(result.contexts);
        setErrors((current) => ({ context: current.context }));
        setContext((chosen) => {
          const names = result.contexts.map((c) => c.name);
          if (chosen && names.includes(chosen)) return chosen;
          if (editing && names.includes(editing.context)) return editing.context;
          return result.currentContext ?? result.contexts[0]?.name ?? null;
        });
      },
      onError: (error) => {
        setContexts([]);
        setContext(null);
        const fromServer = connectionErrors(error);
        setErrors(fromServer.kubeconfig ? { kubeconfig: fromServer.kubeconfig } : {});
      },
    }),
  );
  const { mutate: inspectKubeconfig } = inspect;
  useEffect(() => {
    if (debounced.trim()) inspectKubeconfig({ kubeconfig: debounced });
  }, [debounced, inspectKubeconfig]);

  const save = useMutation(
    trpc.clusters.saveConnection.mutationOptions({
      onSuccess: async () => {
        await queryClient.invalidateQueries({ queryKey: trpc.clusters.list.queryKey() });
        close();
      },
      onError: (error) => setErrors(connectionErrors(error)),
    }),
  );

  function close() {
    setKubeconfig("");
    setFileName(null);
    setContext(null);
    setContexts([]);
    setErrors({});
    inspect.reset();
    save.reset();
    onClose();
  }

  async function upload(file: File | null) {
    if (!file) return;
    setFileName(file.name);
    setKubeconfig(await file.text());
    setErrors({});
  }

  function submit(event: FormEvent) {
    event.preventDefault();
    const found: Partial<Record<Field, string>> = {};
    if (!kubeconfig.trim()) found.kubeconfig = "Paste a kubeconfig or upload its file.";
    else if (!context && contexts.length > 0) found.context = "Choose a context.";
    setErrors(found);
    if (clusterId && Object.keys(found).length === 0)
      save.mutate({ id: clusterId, kubeconfig, context: context ?? undefined });
  }

  const chosen = contexts.find((c) => c.name === context);
  const fieldError = errors.kubeconfig ?? errors.context;
  const generalError = save.isError && !fieldError ? save.error : null;
  const pluginRefused = errors.kubeconfig ? /exec plugin|auth-provider/.test(errors.kubeconfig) : false;

  return (
    <Modal
      opened={clusterId !== null}
      onClose={close}
      title={
        shown.editing
          ? `Change the connection of “${shown.clusterId}”`
          : `Connect “${shown.clusterId}” to Kubernetes`
      }
      size="xl"
    >
      <form onSubmit={submit} noValidate>
        <Fieldset variant="unstyled" disabled={save.isPending}>
          <Stack gap="md">
            <Text size="sm" c="dimmed">
              Tapfleet watches the cluster&apos;s nodes, pods and DaemonSets with the kubeconfig&apos;s
              credentials. Use a ServiceAccount token or a client certificate; only the chosen context is
              kept, encrypted, and it is never shown again.
            </Text>
            <Textarea
              label="Kubeconfig"
              description={
                fileName
                  ? `From ${fileName}. Edit it here or upload another file.`
                  : "Paste it, or upload the file."
              }
              placeholder={"apiVersion: v1\nkind: Config\nclusters: …"}
              autosize
              minRows={8}
              maxRows={16}
              spellCheck={false}
              autoComplete="off"
              styles={{ input: { fontFamily: "var(--mantine-font-family-monospace)", fontSize: 12 } }}
              value={kubeconfig}
              error={errors.kubeconfig}
              data-autofocus
              onChange={(event) => {
                setKubeconfig(event.currentTarget.value);
                setFileName(null);
                setErrors({});
              }}
            />
            <Group justify="space-between" align="flex-start">
              <FileButton
                onChange={(file) => void upload(file)}
                accept=".yaml,.yml,.conf,.config,text/plain,*"
              >
                {(props) => (
                  <Button {...props} variant="default" size="xs" leftSection={<IconUpload size={14} />}>
                    Upload kubeconfig
                  </Button>
                )}
              </FileButton>
              {inspect.isPending ? (
                <Text size="xs" c="dimmed">
                  Reading the kubeconfig…
                </Text>
              ) : null}
            </Group>
            {pluginRefused ? (
              <Alert color="blue" variant="light" title="Make a ServiceAccount token kubeconfig">
                <Text size="sm" mb="xs">
                  Run these against the cluster, then put the printed token in the kubeconfig&apos;s user as{" "}
                  <Code>token:</Code> (see “Connect a cluster” in the README for a token that does not
                  expire).
                </Text>
                <Code block style={{ whiteSpace: "pre-wrap", overflowWrap: "anywhere" }}>
                  {SERVICE_ACCOUNT_COMMANDS}
                </Code>
              </Alert>
            ) : null}
            <Select
              label="Context"
              description="The cluster and user to connect with."
              placeholder={contexts.length === 0 ? "Paste a kubeconfig first" : "Choose a context"}
              data={contexts.map((c) => ({
                value: c.name,
                label: c.server ? `${c.name} — ${c.server} (${c.authKind})` : `${c.name} — cannot be used`,
              }))}
              value={context}
              onChange={(value) => {
                setContext(value);
                setErrors(({ context: _dropped, ...rest }) => rest);
              }}
              disabled={contexts.length === 0}
              allowDeselect={false}
              error={errors.context ?? chosen?.problem}
              comboboxProps={{ withinPortal: true }}
            />
            {chosen?.insecure ? (
              <Alert
                color="yellow"
                variant="light"
                icon={<IconAlertTriangle size={16} />}
                title="TLS is not verified"
              >
                This context sets <Code>insecure-skip-tls-verify</Code>: Tapfleet will not check the API
                server&apos;s certificate, so anyone on the network path could impersonate it. Prefer{" "}
                <Code>certificate-authority-data</Code>.
              </Alert>
            ) : null}
            <FormError error={generalError} />
            <Group justify="space-between" gap="sm" wrap="nowrap">
              <Text size="xs" c="dimmed">
                Tested before saving: the server version, and list and watch of nodes, pods and DaemonSets.
              </Text>
              <Group gap="sm" wrap="nowrap">
                <Button variant="default" onClick={close}>
                  Cancel
                </Button>
                <Button type="submit" loading={save.isPending} disabled={Boolean(chosen?.problem)}>
                  Test and save
                </Button>
              </Group>
            </Group>
          </Stack>
        </Fieldset>
      </form>
    </Modal>
  );
}
