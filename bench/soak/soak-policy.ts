/**
 * The soak's policy and its rewrites. A valid rewrite is the base policy with a new comment (a new
 * version: the guard compiles it, swaps it in and rechecks every live socket); every fifth rewrite
 * is broken in one of three ways the loader must refuse, leaving the last good policy in force.
 */

/** The issuer the soak's tokens come from; its secret reaches the server through the environment. */
export const SOAK_ISSUER = {
  iss: "urn:sockguard:soak",
  aud: "soak",
  secretVariable: "SOCKGUARD_SOAK_SECRET",
};
/** The namespace every soak client connects to. */
export const SOAK_NAMESPACE = "/soak";

/**
 * The built-in soak policy. `budgets` adds a generous event rate limit (far above what a soak
 * client sends), so that counting budgets is part of every event's path.
 *
 * @example
 * await writeFile("policy.yaml", soakPolicy({ budgets: true }));
 */
export function soakPolicy({ budgets }: { readonly budgets: boolean }): string {
  return `version: 1
connection:
  allowMissingOrigin: true
  transports: [polling, websocket]
  maxDenials: 1000/1m
auth:
  issuers:
    soak:
      issuer: ${SOAK_ISSUER.iss}
      secret: \${env:${SOAK_ISSUER.secretVariable}}
      audience: ${SOAK_ISSUER.aud}
      algorithms: [HS256]
namespaces:
  ${SOAK_NAMESPACE}:
    require: { scope: soak }
${budgets ? "    eventRateLimit: 1000/1s\n" : ""}    events:
      note:
        schema:
          type: object
          properties: { text: { type: string, maxLength: 64 } }
          required: [text]
          additionalProperties: false
        ack: required
      move:
        args:
          - { type: integer, minimum: 0, maximum: 99 }
          - { type: integer, minimum: 0, maximum: 99 }
`;
}

/** What rewrite number `n` writes, and whether the guard must refuse it. */
export interface PolicyRewrite {
  readonly text: string;
  readonly broken: boolean;
}

/** Each appended at the top level of any policy, each an error the loader must report. */
const BREAKAGES = [
  "x-broken: [unclosed\n", // a YAML syntax error
  "unknownTopLevelKey: true\n", // an unknown key
  "version: 2\n", // a duplicate key
] as const;

/**
 * Rewrite `n` (from 1) of `base`: every fifth is broken, the others valid and each a new version.
 *
 * @example
 * policyRewrite(base, 5).broken; // true
 */
export function policyRewrite(base: string, n: number): PolicyRewrite {
  const separator = base.endsWith("\n") ? "" : "\n";
  if (n % 5 === 0) {
    const breakage = BREAKAGES[(n / 5) % BREAKAGES.length]!;
    return { text: `${base}${separator}${breakage}`, broken: true };
  }
  return { text: `${base}${separator}# rewrite ${n}\n`, broken: false };
}
