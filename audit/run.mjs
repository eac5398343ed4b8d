// Runs the graphql-http server audits (GraphQL over HTTP conformance)
// against a running GraphQL endpoint:
//
//	node audit/run.mjs http://127.0.0.1:8080/graphql
//
// Prints one line per audit: id, requirement level (MUST, SHOULD, MAY),
// "ok" or "fail" with the reason. Exits 1 when any MUST audit fails, 2 on a
// usage error or when the audits could not run at all.
import { serverAudits } from 'graphql-http';

const url = process.argv[2];
if (!url) {
  console.error('usage: node run.mjs <graphql url>');
  process.exit(2);
}

const audits = serverAudits({ url, fetchFn: fetch });
let mustFailures = 0;
for (const audit of audits) {
  const level = audit.name.split(' ', 1)[0];
  let result;
  try {
    result = await audit.fn();
  } catch (err) {
    // The audit function throws only on fatal errors (server unreachable).
    result = { status: 'error', reason: `audit could not run: ${err}` };
  }
  if (result.status === 'ok') {
    console.log(`${audit.id} ${level} ok ${audit.name}`);
    continue;
  }
  if (level === 'MUST') mustFailures++;
  let detail = '';
  if (result.response) {
    detail = ` [HTTP ${result.response.status} ${result.response.headers.get('content-type') ?? ''}]`;
  }
  console.log(`${audit.id} ${level} fail ${audit.name}: ${result.reason}${detail}`);
}

console.log(`${audits.length} audits, ${mustFailures} MUST failures`);
process.exit(mustFailures > 0 ? 1 : 0);
