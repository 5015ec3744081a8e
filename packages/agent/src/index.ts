export { runAgent, EXIT, DEFAULT_TUNING, type RunAgentOptions, type AgentTuning } from "./agent.ts";
export { loadAgentSettings, AGENT_VERSION } from "./agent-settings.ts";
