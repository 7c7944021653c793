/**
 * The certificate the server serves, when the policy names one (`connection.tls.certFile`): the
 * guard then owns the secure context of the app's https (or http2 secure) server and replaces it
 * with `setSecureContext()` whenever a new policy brings a new certificate, key, CA or
 * `minVersion`. Node hands the new context to new TLS connections only; established ones keep
 * the certificate they were shown.
 *
 * `setSecureContext()` replaces every option of the context, so the server's own options (its
 * ciphers, curves, `maxVersion`, CRL ...) are read once, before the guard first replaces them, and
 * given again each time with the policy's certificate over them.
 */
import { Server as TlsServer, type SecureContextOptions } from "node:tls";
import type { Server } from "socket.io";
import type { CompiledPolicy, CompiledTls, ServedCredentials } from "../compile/types.js";
import type { Rule } from "../decisions.js";
import { POLICY_OBJECT_FILE, type Diagnostic } from "../policy/diagnostic.js";
import { describeError, errorDiagnostic } from "../policy/error-diagnostic.js";
import type { Logger } from "./context.js";

const PLAIN_SERVER =
  "the policy names certificates but the server is plain HTTP; put TLS at a proxy and use trustedProxies, or create an https server";
const PLAIN_SERVER_MIN_VERSION =
  "connection.tls.minVersion needs a TLS server, but the server is plain HTTP; behind a TLS proxy, set the oldest version at the proxy and use requireTls with trustedProxies";
const NO_OWN_CERTIFICATE =
  "the policy no longer names a certificate, and the server has none of its own to serve instead: keep connection.tls.certFile and keyFile";

/** The options a `tls.Server` keeps and `setSecureContext()` replaces (Node 20 to 24). */
const CONTEXT_OPTION_NAMES = [
  "pfx",
  "key",
  "passphrase",
  "cert",
  "clientCertEngine",
  "ca",
  "minVersion",
  "maxVersion",
  "secureProtocol",
  "crl",
  "sigalgs",
  "ciphers",
  "ecdhCurve",
  "dhparam",
  "honorCipherOrder",
  "secureOptions",
  "sessionIdContext",
  "privateKeyIdentifier",
  "privateKeyEngine",
] as const;

/**
 * Keeps the server's secure context in step with the policy in force.
 *
 * @example
 * const served = new ServedCertificate(io, logger);
 * const problems = served.apply(compiled); // [] once the certificate is in force (or none is named)
 */
export class ServedCertificate {
  readonly #io: Server;
  readonly #logger: Logger;
  /** The server's own context options, read before the guard first replaced them. */
  #ownOptions: SecureContextOptions | undefined;
  /** What was last put in force, to leave the context alone when a reload did not change it. */
  #inForce: string | undefined;

  constructor(io: Server, logger: Logger) {
    this.#io = io;
    this.#logger = logger;
  }

  /**
   * Puts the certificate of `policy` in force on the server, or says why it cannot: then nothing
   * changed, and the diagnostics are the policy's refusal. Before the Socket.IO server is attached
   * to its HTTP server there is nothing to check; call it again once it is.
   */
  apply(policy: CompiledPolicy): Diagnostic[] {
    const server: unknown = this.#io.httpServer;
    if (server === undefined) return [];
    const tls = policy.connection.tls;
    if (!(server instanceof TlsServer)) {
      if (tls === undefined) return [];
      return [ruleDiagnostic(tls.rules.tls, tls.credentials ? PLAIN_SERVER : PLAIN_SERVER_MIN_VERSION)];
    }
    if (tls?.credentials === undefined) return this.#restoreOwn(server, policy);
    const inForce = describeInForce(tls.credentials, tls.minVersion);
    if (inForce === this.#inForce) return [];
    const own = (this.#ownOptions ??= ownOptions(server));
    try {
      server.setSecureContext(contextOptions(own, tls));
    } catch (error) {
      return [
        ruleDiagnostic(
          tls.rules.certFile,
          `Node's TLS refuses this certificate with the server's own TLS options: ${describeError(error).slice(0, 160)}`,
        ),
      ];
    }
    this.#inForce = inForce;
    const { fingerprint256, certFile, notAfter } = tls.credentials;
    this.#logger.info(
      `sockguard: new TLS connections get the certificate ${fingerprint256} from ${certFile} (valid until ${new Date(notAfter).toISOString()})`,
    );
    return [];
  }

  /** A policy without a certificate: the server's own context comes back, if the guard replaced it. */
  #restoreOwn(server: TlsServer, policy: CompiledPolicy): Diagnostic[] {
    const own = this.#ownOptions;
    if (own === undefined || this.#inForce === undefined) return [];
    if (own.pfx === undefined && (own.key === undefined || own.cert === undefined)) {
      return [errorDiagnostic(policy.files[0] ?? POLICY_OBJECT_FILE, ["connection"], NO_OWN_CERTIFICATE)];
    }
    try {
      server.setSecureContext(own);
    } catch (error) {
      return [errorDiagnostic(policy.files[0] ?? POLICY_OBJECT_FILE, ["connection"], describeError(error))];
    }
    this.#inForce = undefined;
    this.#logger.info("sockguard: new TLS connections get the server's own certificate again");
    return [];
  }
}

/** The server's context options as it holds them now. */
function ownOptions(server: TlsServer): SecureContextOptions {
  const fields = server as unknown as Record<string, unknown>;
  const own: Record<string, unknown> = {};
  for (const name of CONTEXT_OPTION_NAMES) if (fields[name] !== undefined) own[name] = fields[name];
  return own as SecureContextOptions;
}

/**
 * The server's own options with the policy's certificate, key and CA over them, and the stricter
 * of the two minimum versions (none where the server pins a `secureProtocol`, which Node refuses
 * beside `minVersion`; the handshake check still refuses older connections there).
 */
function contextOptions(own: SecureContextOptions, tls: CompiledTls): SecureContextOptions {
  const credentials = tls.credentials!;
  const {
    pfx: _pfx,
    passphrase: _passphrase,
    privateKeyIdentifier: _identifier,
    privateKeyEngine: _engine,
    ...kept
  } = own;
  const options: SecureContextOptions = { ...kept, key: credentials.key, cert: credentials.cert };
  if (credentials.ca !== undefined) options.ca = credentials.ca;
  const minVersion = stricterVersion(own.minVersion, tls.minVersion);
  if (minVersion !== undefined && own.secureProtocol === undefined) options.minVersion = minVersion;
  return options;
}

function stricterVersion(
  a: SecureContextOptions["minVersion"],
  b: SecureContextOptions["minVersion"],
): SecureContextOptions["minVersion"] {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return a.localeCompare(b) >= 0 ? a : b;
}

function describeInForce(credentials: ServedCredentials, minVersion: string | undefined): string {
  return [
    credentials.fingerprint256,
    credentials.key,
    credentials.cert,
    credentials.ca ?? "",
    minVersion ?? "",
  ].join("\n");
}

function ruleDiagnostic(rule: Rule, message: string): Diagnostic {
  return { file: rule.file, line: rule.line, col: rule.col, path: rule.path, message, severity: "error" };
}
