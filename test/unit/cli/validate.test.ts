/**
 * `sockguard validate`, run for real: a child process of this Node.js running src/cli/main.ts, on
 * real files, with its exit status and output checked.
 */
import { expect } from "chai";
import { execFile, execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Cleanup } from "../../helpers/cleanup.js";
import { makeCertificate } from "../../helpers/certificates.js";
import { writePolicyFiles } from "../../helpers/policy-files.js";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const CLI = join(ROOT, "src/cli/main.ts");
const FIXTURES = join(ROOT, "test/fixtures/policy/diagnostics");

interface Run {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the command in `cwd` (the diagnostics fixtures by default), with NO_COLOR and CHAT_PORT unset. */
function sockguard(
  args: readonly string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
): Promise<Run> {
  const env: NodeJS.ProcessEnv = { ...process.env, ...options.env };
  if (!options.env?.NO_COLOR) delete env.NO_COLOR;
  delete env.CHAT_PORT;
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ["--import", "tsx", CLI, ...args],
      { cwd: options.cwd ?? FIXTURES, env, timeout: 15_000 },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== "number") reject(error);
        else resolve({ status: typeof error?.code === "number" ? error.code : 0, stdout, stderr });
      },
    );
  });
}

const UNKNOWN_KEY_LINE =
  'unknown-key.yaml:3:3: error: unknown key "orgins" in connection (did you mean "origins"?)';

describe("sockguard validate", () => {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  it("points at a bad mode value at the top, on a namespace and on an event", async () => {
    const dir = await writePolicyFiles(cleanup, {
      "modes.yaml": [
        "version: 1",
        "mode: shadows",
        "namespaces:",
        "  /chat:",
        "    auth: none",
        "    mode: Shadow",
        "    events:",
        "      message: { args: [], mode: report }",
        "",
      ].join("\n"),
    });
    const { status, stdout } = await sockguard(["validate", join(dir, "modes.yaml")], { cwd: ROOT });
    expect(status).to.equal(1);
    expect(stdout).to.contain("modes.yaml:2:7: error: mode must be one of: enforce, shadow");
    expect(stdout).to.contain(
      'modes.yaml:6:11: error: namespaces["/chat"].mode must be one of: enforce, shadow',
    );
    expect(stdout).to.contain(
      'modes.yaml:8:34: error: namespaces["/chat"].events.message.mode must be one of: enforce, shadow',
    );
  });

  it("warns about a TLS certificate that expires soon, and fails on an expired one", async function () {
    this.timeout(30_000);
    const [soon, expired] = await Promise.all([
      makeCertificate({ days: 3 }),
      makeCertificate({ period: { from: "20200101000000Z", to: "20200201000000Z" } }),
    ]);
    const policy = (name: string): string =>
      `version: 1\nconnection:\n  tls: { certFile: ${name}.crt, keyFile: ${name}.key }\nnamespaces: { /: { auth: none, events: {} } }\n`;
    const dir = await writePolicyFiles(cleanup, {
      "soon.yaml": policy("soon"),
      "soon.crt": soon.cert,
      "soon.key": soon.key,
      "expired.yaml": policy("expired"),
      "expired.crt": expired.cert,
      "expired.key": expired.key,
    });
    const warned = await sockguard(["validate", join(dir, "soon.yaml")], { cwd: ROOT });
    expect(warned.status).to.equal(0);
    expect(warned.stdout).to.match(
      /soon\.yaml:3:20: warning: the certificate expires on .*, in 2 days: renew it \(certFile\)\n/,
    );
    const refused = await sockguard(["validate", join(dir, "expired.yaml")], { cwd: ROOT });
    expect(refused.status).to.equal(1);
    expect(refused.stdout.split("\n")[0]).to.match(
      /expired\.yaml:3:20: error: the certificate expired on 2020-02-01T00:00:00Z \(certFile\)$/,
    );
  });

  it("exits 0 and says so when every file is valid", async () => {
    const run = await sockguard(["validate", "policies/chat.yaml", "policies/minimal.yaml"], { cwd: ROOT });
    expect(run).to.deep.equal({ status: 0, stdout: "2 files checked: no problems\n", stderr: "" });
  });

  it("exits 1 and prints FILE:LINE:COL: error: MESSAGE, then a summary", async () => {
    const run = await sockguard(["validate", "unknown-key.yaml"]);
    expect(run.status).to.equal(1);
    expect(run.stdout).to.equal(`${UNKNOWN_KEY_LINE}\n1 file checked: 1 error (1 file invalid)\n`);
  });

  it("points into a referenced schema file, relative to the working directory", async () => {
    const run = await sockguard(["validate", join(FIXTURES, "schema-file-error.yaml")]);
    expect(run.status).to.equal(1);
    expect(run.stdout.split("\n")[0]).to.equal(
      'schemas/bad-keyword.json:4:33: error: unknown keyword "maxLenght" (did you mean "maxLength"?); strict mode refuses keywords it does not know',
    );
  });

  it("prints every problem of a file in one run, the schema files' included, and exits 1", async () => {
    const run = await sockguard(["validate", "many-problems.yaml"]);
    expect(run.status).to.equal(1);
    const lines = run.stdout.trimEnd().split("\n");
    expect(lines.map((line) => /^([^:]+:\d+:\d+): error: /.exec(line)?.[1] ?? line)).to.deep.equal([
      "many-problems.yaml:4:13",
      "many-problems.yaml:5:15",
      "many-problems.yaml:7:19",
      "many-problems.yaml:9:39",
      "many-problems.yaml:13:5",
      "many-problems.yaml:16:25",
      "many-problems.yaml:21:20",
      "schemas/many-problems.json:3:47",
      "1 file checked: 8 errors (1 file invalid)",
    ]);
  });

  it("checks several files at once, reporting each invalid one", async () => {
    const run = await sockguard([
      "validate",
      join(ROOT, "policies/minimal.yaml"),
      "unknown-key.yaml",
      "short-secret.yaml",
    ]);
    expect(run.status).to.equal(1);
    expect(run.stdout).to.equal(
      [
        UNKNOWN_KEY_LINE,
        "short-secret.yaml:6:15: error: secret is 12 bytes; HS256 needs at least 32",
        "3 files checked: 2 errors (2 files invalid)",
        "",
      ].join("\n"),
    );
  });

  it("exits 2 for a file that cannot be read, still checking the others", async () => {
    const run = await sockguard(["validate", "missing.yaml", "unknown-key.yaml", "."]);
    expect(run.status).to.equal(2);
    expect(run.stdout).to.equal(
      [
        "missing.yaml: error: cannot read: no such file",
        UNKNOWN_KEY_LINE,
        ".: error: cannot read: it is a directory",
        "3 files checked: 3 errors (3 files invalid)",
        "",
      ].join("\n"),
    );
  });

  it("passes warnings, and fails on them with --strict", async () => {
    const lenient = await sockguard(["validate", "query-token.yaml"]);
    expect(lenient.status).to.equal(0);
    expect(lenient.stdout).to.match(/^query-token\.yaml:3:27: warning: query\.access_token: /);
    expect(lenient.stdout).to.include("1 file checked: 1 warning\n");
    const strict = await sockguard(["validate", "--strict", "query-token.yaml"]);
    expect(strict.status).to.equal(1);
    expect(strict.stdout).to.include(
      "1 file checked: 1 warning (1 file invalid: --strict fails on warnings)\n",
    );
  });

  it("accepts format: safe-text and plain-text, and still refuses an unknown format", async () => {
    const good = await sockguard(["validate", "test/fixtures/policy/text-formats/good.yaml"], { cwd: ROOT });
    expect(good).to.deep.equal({ status: 0, stdout: "1 file checked: no problems\n", stderr: "" });
    const typo = await sockguard(["validate", "test/fixtures/policy/text-formats/typo.yaml"], { cwd: ROOT });
    expect(typo.status).to.equal(1);
    expect(typo.stdout.split("\n")[0]).to.equal(
      'test/fixtures/policy/text-formats/typo.yaml:8:63: error: unknown format "plain-txt" (did you mean "plain-text"?)',
    );
  });

  it("prints one JSON object with every file's result for --format json", async () => {
    const run = await sockguard([
      "validate",
      "--format",
      "json",
      "unknown-key.yaml",
      join(ROOT, "policies/minimal.yaml"),
      "missing.yaml",
    ]);
    expect(run.status).to.equal(2);
    const report = JSON.parse(run.stdout) as {
      valid: boolean;
      errors: number;
      warnings: number;
      files: {
        file: string;
        valid: boolean;
        readable: boolean;
        version?: string;
        dependencies: string[];
        diagnostics: object[];
      }[];
    };
    expect(report).to.deep.include({ valid: false, errors: 2, warnings: 0 });
    expect(report.files.map((file) => [file.file, file.valid, file.readable])).to.deep.equal([
      ["unknown-key.yaml", false, true],
      [join(ROOT, "policies/minimal.yaml"), true, true],
      ["missing.yaml", false, false],
    ]);
    expect(report.files[0]!.diagnostics).to.deep.equal([
      {
        file: "unknown-key.yaml",
        line: 3,
        col: 3,
        path: "/connection/orgins",
        message: 'unknown key "orgins" in connection (did you mean "origins"?)',
        severity: "error",
      },
    ]);
    expect(report.files[1]!.version).to.match(/^[0-9a-f]{64}$/);
    expect(report.files[1]!.dependencies).to.deep.equal([join(ROOT, "policies/minimal.yaml")]);
  });

  it("prints GitHub workflow annotations for --format github", async () => {
    const run = await sockguard([
      "--format=github",
      "validate",
      "unknown-key.yaml",
      "query-token.yaml",
      "missing.yaml",
    ]);
    expect(run.status).to.equal(2);
    const lines = run.stdout.trimEnd().split("\n");
    expect(lines[0]).to.equal(
      '::error file=unknown-key.yaml,line=3,col=3,title=sockguard::unknown key "orgins" in connection (did you mean "origins"?)',
    );
    expect(lines[1]).to.match(
      /^::warning file=query-token\.yaml,line=3,col=27,title=sockguard::query\.access_token: /,
    );
    expect(lines[2]).to.equal("::error file=missing.yaml,title=sockguard::cannot read: no such file");
    expect(lines[3]).to.equal("3 files checked: 2 errors, 1 warning (2 files invalid)");
  });

  it("exits 2 on bad usage, saying what is wrong on stderr", async () => {
    const cases: [string[], string][] = [
      [["validate"], "validate needs at least one policy file"],
      [["validate", "--format", "xml", "a.yaml"], '--format must be one of text, json, github, not "xml"'],
      [["validate", "--fast", "a.yaml"], "Unknown option '--fast'"],
      [["check", "a.yaml"], 'unknown command "check"'],
      [[], "no command given"],
    ];
    for (const [args, problem] of cases) {
      const run = await sockguard(args);
      expect(run.status, args.join(" ")).to.equal(2);
      expect(run.stdout).to.equal("");
      expect(run.stderr).to.include(problem);
    }
  });

  it("prints help and the package's version", async () => {
    const help = await sockguard(["validate", "--help"]);
    expect(help.status).to.equal(0);
    expect(help.stdout).to.include("Usage: sockguard validate [options] <file...>");
    expect(help.stdout).to.include("--format");
    const version = await sockguard(["--version"]);
    const manifest = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string };
    expect(version).to.deep.equal({ status: 0, stdout: `${manifest.version}\n`, stderr: "" });
  });

  describe("colour", () => {
    const hasScript = ((): boolean => {
      try {
        execFileSync("script", ["--version"], { stdio: "ignore" });
        return process.platform === "linux";
      } catch {
        return false;
      }
    })();
    /** Runs the command on a pseudo-terminal (util-linux `script`), so stdout is a TTY. */
    function onTerminal(env: Record<string, string>): string {
      const command = [process.execPath, "--import", "tsx", CLI, "validate", "unknown-key.yaml"]
        .map((part) => `'${part}'`)
        .join(" ");
      const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
      if (!env.NO_COLOR) delete childEnv.NO_COLOR;
      try {
        return execFileSync("script", ["-qec", command, "/dev/null"], {
          cwd: FIXTURES,
          env: childEnv,
          encoding: "utf8",
          timeout: 15_000,
        });
      } catch (error) {
        return String((error as { stdout?: unknown }).stdout ?? "");
      }
    }

    it("is off when the output is not a terminal", async () => {
      const run = await sockguard(["validate", "unknown-key.yaml"]);
      expect(run.stdout).to.not.include("\u001b[");
    });

    it("is on for a terminal, and off there when NO_COLOR is set", function () {
      if (!hasScript) this.skip();
      expect(onTerminal({})).to.include("\u001b[31merror\u001b[0m");
      const plain = onTerminal({ NO_COLOR: "1" });
      expect(plain).to.include("error: unknown key");
      expect(plain).to.not.include("\u001b[");
    });
  });
});
