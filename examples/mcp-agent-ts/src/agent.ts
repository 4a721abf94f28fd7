// A small agent on Bollard's MCP front, written with the official MCP
// TypeScript SDK: a client that no one at Bollard wrote the server for.
// Against `go run ./cmd/sidecar dev`, as the dev agent helpdesk-bot, it
//
//  1. lists its tools: only what helpdesk-bot's policy allows;
//  2. reads users (users_list);
//  3. is denied a write: deactivating the break-glass administrator, a
//     protected user, is an isError result carrying the reason code;
//  4. answers an elicitation: suspending a user is destructive, so Bollard
//     asks a person to confirm; this agent's handler accepts, and the call
//     runs; then it unsuspends the user, which needs no confirmation, so the
//     example can run again on the same dev server.
//
// It exits 1 if anything is not as expected, printing what it saw.
//
//   BOLLARD_AGENT_KEY=bk_dev_helpdesk-bot_DO-NOT-USE-IN-PRODUCTION npm run agent
//
// BOLLARD_MCP_URL overrides the endpoint (default http://127.0.0.1:8183/mcp).

import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { ElicitRequestSchema } from "@modelcontextprotocol/sdk/types.js";
import type { CallToolResult, ElicitRequest, ElicitResult, Tool } from "@modelcontextprotocol/sdk/types.js";

// Seed users of the dev mode's Okta simulator (pkg/oktasim/seedids.go).
const ADMIN = "00uADAadmin0000000g7"; // protected: policies/protected.json
const ALICE = "00uALIactive000000g7"; // ACTIVE, an ordinary user

const url = process.env.BOLLARD_MCP_URL ?? "http://127.0.0.1:8183/mcp";
const key = process.env.BOLLARD_AGENT_KEY ?? "";

let passed = 0;
let failed = 0;

function expect(ok: boolean, what: string, saw: unknown): void {
  if (ok) {
    passed++;
    console.log(`   ok: ${what}`);
  } else {
    failed++;
    console.log(`   FAIL: ${what}\n   saw: ${JSON.stringify(saw, null, 2)}`);
  }
}

// The text of a result: Bollard puts Okta's JSON, or the denial with its
// reason code and decision id, in the text content and in structuredContent.
function text(res: CallToolResult): string {
  return res.content.map((c) => (c.type === "text" ? c.text : `[${c.type}]`)).join("\n");
}

function everything(res: CallToolResult): string {
  return text(res) + "\n" + JSON.stringify(res.structuredContent ?? {});
}

// The person's answer to a confirmation form: accept, with every required
// field filled (yes to a boolean, the first choice of an enum).
type Property = { type?: string; enum?: unknown[]; const?: unknown; default?: unknown };
function accept(req: ElicitRequest): ElicitResult {
  const params = req.params as { requestedSchema?: { properties?: Record<string, Property>; required?: string[] } };
  const props = params.requestedSchema?.properties ?? {};
  const content: Record<string, string | number | boolean | string[]> = {};
  for (const name of params.requestedSchema?.required ?? []) {
    const p = props[name] ?? {};
    const v = p.const ?? p.enum?.[0] ?? p.default;
    if (p.type === "boolean") content[name] = true;
    else if (v !== undefined) content[name] = v as string | number;
    else if (p.type === "number" || p.type === "integer") content[name] = 1;
    else content[name] = "confirm";
  }
  return { action: "accept", content };
}

async function main(): Promise<void> {
  if (key === "") {
    console.error("set BOLLARD_AGENT_KEY to the agent's key (`sidecar dev` prints the dev keys; this example expects helpdesk-bot's)");
    process.exit(2);
  }
  const questions: string[] = [];
  const client = new Client({ name: "bollard-mcp-agent-example", version: "0.0.0" }, { capabilities: { elicitation: { form: {} } } });
  client.setRequestHandler(ElicitRequestSchema, async (req) => {
    questions.push(req.params.message);
    console.log(`   elicitation: ${req.params.message}\n   -> accept`);
    return accept(req);
  });
  const transport = new StreamableHTTPClientTransport(new URL(url), {
    requestInit: { headers: { Authorization: `Bearer ${key}` } },
  });
  await client.connect(transport);
  console.log(`connected to ${url}: ${client.getServerVersion()?.name} ${client.getServerVersion()?.version}`);

  try {
    console.log("1. tools/list: only what the policy allows helpdesk-bot");
    const tools: Tool[] = [];
    let cursor: string | undefined;
    do {
      const page = await client.listTools(cursor ? { cursor } : {});
      tools.push(...page.tools);
      cursor = page.nextCursor;
    } while (cursor);
    const names = tools.map((t) => t.name).sort();
    console.log(`   ${names.length} tools: ${names.join(", ")}`);
    for (const want of ["users_list", "user_lifecycle_deactivate", "user_lifecycle_suspend", "user_lifecycle_unsuspend"]) {
      expect(names.includes(want), `${want} is listed`, names);
    }
    for (const hidden of ["users_delete", "users_update", "groups_delete"]) {
      expect(!names.includes(hidden), `${hidden} is not (no manage grant)`, names);
    }
    const deactivate = tools.find((t) => t.name === "user_lifecycle_deactivate");
    expect(deactivate?.annotations?.destructiveHint === true, "user_lifecycle_deactivate is annotated destructive", deactivate?.annotations);

    console.log("2. users_list: an allowed read");
    const list = (await client.callTool({ name: "users_list", arguments: { limit: 5 } })) as CallToolResult;
    const ids = [...new Set(everything(list).match(/00u[0-9A-Za-z]{17}/g) ?? [])];
    console.log(`   users: ${ids.join(" ")}`);
    expect(!list.isError && ids.length > 0, "users_list returns users", list);

    console.log(`3. user_lifecycle_deactivate ${ADMIN}: a denied write`);
    const asked = questions.length;
    const denied = (await client.callTool({ name: "user_lifecycle_deactivate", arguments: { userId: ADMIN } })) as CallToolResult;
    console.log(`   isError ${denied.isError}: ${text(denied)}`);
    const reason = everything(denied).match(/\bprotected_user\b/)?.[0];
    const decision = everything(denied).match(/decision[ _-]?id\W+([\w-]+)/i)?.[1];
    console.log(`   reason code: ${reason ?? "(none)"}, decision id: ${decision ?? "(none)"}`);
    expect(denied.isError === true, "the denial is an isError result", denied);
    expect(reason === "protected_user", "its reason code is protected_user", denied);
    expect(decision !== undefined, "it names its decision id", denied);
    expect(questions.length === asked, "no one is asked to confirm a call the policy refuses", questions);

    console.log(`4. user_lifecycle_suspend ${ALICE}: destructive, so a person confirms (elicitation)`);
    const suspended = (await client.callTool({ name: "user_lifecycle_suspend", arguments: { userId: ALICE } })) as CallToolResult;
    console.log(`   isError ${suspended.isError ?? false}: ${text(suspended).slice(0, 200)}`);
    expect(questions.length === asked + 1, "the server asked once", questions);
    expect(!suspended.isError, "accepted, the call ran", suspended);

    console.log(`5. user_lifecycle_unsuspend ${ALICE}: not destructive, no confirmation (restores the dev data)`);
    const unsuspended = (await client.callTool({ name: "user_lifecycle_unsuspend", arguments: { userId: ALICE } })) as CallToolResult;
    expect(!unsuspended.isError, "unsuspended", unsuspended);
    expect(questions.length === asked + 1, "without a question", questions);
  } finally {
    await transport.terminateSession().catch(() => undefined);
    await client.close();
  }
}

// A bound on a stuck server: the run takes well under a second.
setTimeout(() => {
  console.error("mcp-agent-ts: timed out after 60s");
  process.exit(1);
}, 60_000).unref();

try {
  await main();
} catch (err) {
  failed++;
  console.error("mcp-agent-ts:", err);
}
console.log(`mcp-agent-ts: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
