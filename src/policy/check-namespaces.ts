/**
 * Semantic checks of `namespaces`: each namespace's auth fits the issuers the policy has, claims
 * requirements can hold, and each event is declarable and says what its arguments are.
 */
import type { ArgSpec, BinaryArg, ClaimsRequirement, MessagePolicy } from "./types.js";
import type { PolicyParts } from "./sound-parts.js";
import type { Report } from "./diagnostic-collector.js";
import { closestName } from "./closest-name.js";
import { childPointer, parsePointer } from "./positions.js";
import { reservedEventReason } from "./reserved-events.js";
import { parseSize } from "./units.js";

/** engine.io's default `maxHttpBufferSize`, the policy's default `maxPayload`. */
const DEFAULT_MAX_PAYLOAD = 1_000_000;

/**
 * Checks the sound parts of the namespaces. What depends on a part that was left out (a broken
 * `auth`, `auth.issuers` or `maxPayload`, or a namespace or event that lost a key) is not judged,
 * so one mistake is reported once, not again as the absence of what it broke.
 *
 * @example
 * checkNamespaces(soundParts(document, faults)!, report);
 */
export function checkNamespaces(parts: PolicyParts, report: Report): void {
  const { policy } = parts;
  const namespaces = Object.entries(policy.namespaces);
  if (namespaces.length === 0 && !parts.removed("/namespaces")) {
    report("/namespaces", "no namespace is listed, so every connection is refused", { severity: "warning" });
  }
  const maxPayload = parts.removed("/connection/maxPayload")
    ? Infinity
    : (parseSize(policy.connection?.maxPayload ?? DEFAULT_MAX_PAYLOAD) ?? DEFAULT_MAX_PAYLOAD);

  for (const [name, namespace] of namespaces) {
    const at = (...segments: (string | number)[]): string => childPointer("/namespaces", name, ...segments);
    // Without all of its own keys, the namespace's mode and issuers are not known for sure.
    const mode = parts.incomplete(at()) ? undefined : (namespace.auth ?? "required");
    const issuerNames = parts.issuerNames;

    if (mode === "none") {
      if (namespace.require) {
        report(at("require"), "require under auth: none can never hold: no token is read here", {
          target: "key",
        });
      }
      if (namespace.issuers) {
        report(at("issuers"), "issuers under auth: none has no effect: no token is read here", {
          target: "key",
        });
      }
    } else if (mode !== undefined && issuerNames?.length === 0) {
      report(
        namespace.auth ? at("auth") : at(),
        `namespace ${name} needs a token (auth: ${mode}) but auth.issuers lists no issuer`,
        { target: namespace.auth ? "value" : "key" },
      );
    } else if (
      mode !== undefined &&
      issuerNames !== undefined &&
      !namespace.issuers &&
      issuerNames.length > 1
    ) {
      report(
        at(),
        `the policy trusts ${issuerNames.length} issuers (${issuerNames.join(", ")}): list the ones namespace ${name} trusts in issuers`,
        { target: "key" },
      );
    }
    namespace.issuers?.forEach((issuer, index) => {
      if (
        mode !== undefined &&
        mode !== "none" &&
        issuerNames !== undefined &&
        !issuerNames.includes(issuer)
      ) {
        const suggestion = closestName(issuer, issuerNames);
        const known =
          issuerNames.length > 0 ? `auth.issuers has ${issuerNames.join(", ")}` : "auth.issuers is empty";
        report(
          at("issuers", index),
          `unknown issuer "${issuer}" (${suggestion ? `did you mean "${suggestion}"? ` : ""}${known})`,
        );
      }
    });
    if (namespace.require) checkClaimKeys(namespace.require, at("require"), report);

    for (const [event, spec] of Object.entries(namespace.events ?? {})) {
      const atEvent = (...segments: (string | number)[]): string => at("events", event, ...segments);
      const reserved = reservedEventReason(event);
      if (reserved) report(atEvent(), `event ${reserved}`, { target: "key" });

      checkMessageArgs(
        spec,
        atEvent(),
        `event ${event || '""'}`,
        !parts.incomplete(atEvent()),
        maxPayload,
        report,
      );
      if (spec.reply) {
        checkMessageArgs(
          spec.reply,
          atEvent("reply"),
          `the reply of ${event}`,
          !parts.incomplete(atEvent("reply")),
          maxPayload,
          report,
        );
        if (spec.ack === "forbidden") {
          report(
            atEvent("reply"),
            `event ${event} forbids an ack (ack: forbidden), so its reply is never sent`,
            {
              target: "key",
            },
          );
        }
      }
      if (spec.require) {
        if (mode === undefined) {
          checkClaimKeys(spec.require, atEvent("require"), report);
        } else if (mode === "none") {
          report(atEvent("require"), "require under auth: none can never hold: no token is read here", {
            target: "key",
          });
        } else {
          checkClaimKeys(spec.require, atEvent("require"), report);
        }
      }
    }
    for (const [emit, spec] of Object.entries(namespace.emits ?? {})) {
      const atEmit = at("emits", emit);
      const reserved = reservedEventReason(emit);
      if (reserved) report(atEmit, `emit ${reserved}`, { target: "key" });
      checkMessageArgs(spec, atEmit, `emit ${emit || '""'}`, !parts.incomplete(atEmit), maxPayload, report);
    }
  }
}

/**
 * A message's arguments (an event's, a reply's, an emit's): exactly one of `schema` and `args`, and
 * each binary position's size. `complete` is false when a structural error removed one of its keys.
 */
function checkMessageArgs(
  spec: MessagePolicy,
  pointer: string,
  label: string,
  complete: boolean,
  maxPayload: number,
  report: Report,
): void {
  if (spec.schema === undefined && spec.args === undefined && complete) {
    report(pointer, `${label} needs schema or args (args: [] for one without arguments)`, { target: "key" });
  } else if (spec.schema !== undefined && spec.args !== undefined) {
    report(
      childPointer(pointer, "args"),
      `${label} has both schema and args: schema is shorthand for args: [schema], keep one`,
      { target: "key" },
    );
  }
  const args: [ArgSpec, string][] =
    spec.schema !== undefined
      ? [[spec.schema, childPointer(pointer, "schema")]]
      : (spec.args ?? []).map((arg, index) => [arg, childPointer(pointer, "args", index)]);
  for (const [arg, at] of args) {
    if (isBinaryArg(arg)) checkBinaryArg(arg, at, maxPayload, report);
  }
}

/** True for the policy's own `{ binary: { maxBytes } }` form (never a JSON Schema). */
export function isBinaryArg(arg: ArgSpec): arg is BinaryArg {
  return typeof arg === "object" && arg !== null && Object.hasOwn(arg, "binary");
}

function checkBinaryArg(arg: BinaryArg, pointer: string, maxPayload: number, report: Report): void {
  const at = childPointer(pointer, "binary", "maxBytes");
  const bytes = parseSize(arg.binary.maxBytes);
  if (bytes === undefined) {
    report(at, "maxBytes is a size: bytes, or a number with KiB, MiB, KB, MB (64KiB, 1MB)");
  } else if (bytes < 1) {
    report(at, "maxBytes must be at least 1 byte");
  } else if (bytes > maxPayload) {
    report(
      at,
      `maxBytes is more than connection.maxPayload (${maxPayload} bytes), which limits the whole event`,
      {
        severity: "warning",
      },
    );
  }
}

/** Claim names: a JSON Pointer must be well formed, a dotted path must have no empty segment. */
function checkClaimKeys(requirement: ClaimsRequirement, pointer: string, report: Report): void {
  for (const claim of Object.keys(requirement)) {
    if (claim.startsWith("/")) {
      if (!parsePointer(claim)) {
        report(
          childPointer(pointer, claim),
          `claim "${claim}" is not a JSON Pointer: ~ must be followed by 0 or 1`,
          { target: "key" },
        );
      }
    } else if (claim.split(".").some((segment) => segment === "")) {
      report(
        childPointer(pointer, claim),
        `claim "${claim}" has an empty segment; a key with dots in its name is written as a JSON Pointer (/a.b)`,
        {
          target: "key",
        },
      );
    }
  }
}
