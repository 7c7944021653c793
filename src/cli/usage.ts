/** The help texts of the command. */

export const COMMAND_HELP = `Usage: sockguard <command> [options]

Secure a Socket.IO server from one declarative YAML policy.

Commands:
  validate [files...]   check policy files and report every mistake with its file, line and column
  test [paths...]       run policy test suites (*.test.yaml) through the guard's own decisions
  explain [case.yaml]   show every check of one case, its outcome and the policy key that decided
  doctor [dir]          check the installed socket.io stack against known advisories (offline)
  types <file>          generate TypeScript event, ack and socket.data types from a policy
  asyncapi <file>       generate an AsyncAPI 3.0 document of a policy
  help                  show this help

Options:
  -h, --help            show help (sockguard <command> --help for the command's options)
  -v, --version         print the version
`;

export const VALIDATE_HELP = `Usage: sockguard validate [options] <file...>

Check sockguard policy files as the guard loads them: YAML syntax, the policy schema,
environment values (\${env:NAME}), referenced schema and key files, and every event
schema compiled in strict mode. Nothing is fetched over the network.

Options:
  -f, --format <format>  text (default): FILE:LINE:COL: error|warning: MESSAGE, then a summary
                         json: one object with the results of every file
                         github: GitHub Actions annotations (::error file=...,line=...,col=...::...)
  --strict               warnings fail too
  --root <dir>           the directory $refs and key files must stay inside (default: each
                         policy's own directory); one that leads outside is an error, never opened
  -h, --help             show this help

Exit status:
  0  every file is valid
  1  some file is not valid
  2  bad usage, or a file that cannot be read

Examples:
  sockguard validate policies/chat.yaml
  npx sockguard validate policies/*.yaml --format github --strict
  sockguard validate services/chat/policy.yaml --root services   # $refs may reach services/shared/
`;

export const DOCTOR_HELP = `Usage: sockguard doctor [options] [dir]

Find every installed copy of socket.io, engine.io, socket.io-parser, socket.io-adapter,
ws, engine.io-client and socket.io-client under dir's node_modules (nested copies and
pnpm's store included; dir is the working directory by default) and check each against
the advisories shipped with sockguard. Only package.json files are read: no npm, no
network. Also warns about what doctor can see going wrong: no lock file, several copies
of socket.io, a socket.io outside the range sockguard supports.

Options:
  -f, --format <format>  text (default): one line per finding, then warnings and a summary
                         json: one object with every copy, finding and warning
                         github: GitHub Actions annotations (::error ...::, ::warning ...::)
  --advisories <file>    read a newer advisory file in the same format
                         (schemas/advisories.schema.json) instead of the shipped one
  --strict               warnings fail too
  -h, --help             show this help

Exit status:
  0  no installed copy is known to be vulnerable (warnings alone do not fail without --strict)
  1  some installed copy is in an advisory's affected range (or a warning, with --strict)
  2  bad usage, an advisory file that cannot be read or is not in the format, or a
     directory with no node_modules

Examples:
  sockguard doctor
  npx sockguard doctor apps/chat --format github
`;

export const TEST_HELP = `Usage: sockguard test [options] [paths...]

Run policy test suites (*.test.yaml; a directory means every suite in it, the current
directory by default). Each case runs through the decisions the guard itself makes.

Options:
  -f, --format <format>  text (default), json, github (annotations on the suite's lines),
                         junit (JUnit XML for CI test reports)
  --coverage             list the namespaces, events and require entries no case reached
  --coverage-min <N>     fail when less than N percent of them were reached
  -h, --help             show this help

Exit status:
  0  every case passed
  1  a case failed, a suite has a mistake, or coverage is below --coverage-min
  2  bad usage, or a path that cannot be read

Examples:
  sockguard test policies/
  npx sockguard test policies/chat.test.yaml --format junit > sockguard-junit.xml
`;

export const EXPLAIN_HELP = `Usage: sockguard explain --policy FILE [options]
       sockguard explain CASE.yaml

Run one case through the guard's decisions and print every check in order (origin, transport,
TLS, namespace, token, claims, event, token expiry, size, binary, schema), whether it passed,
and the policy position that decided, then the decision. A CASE file is a test suite: its
first case is explained.

Options:
  --policy <file>        the policy
  --origin <origin>      the Origin header (default: the policy's first origin)
  --transport <name>     polling | websocket | webtransport (default: the policy's first)
  --tls                  the request came over TLS
  --namespace <name>     connect to this namespace
  --claims <json>        with a token carrying these claims, as verified by the issuer
  --issuer <name>        which issuer verified them (needed when the policy has several)
  --event <name>         then send this event
  --args <json>          with these arguments (a JSON array)

Example:
  sockguard explain --policy policies/chat.yaml --namespace /chat \\
    --claims '{"sub":"bob","scope":"chat:read"}' --event message --args '[{"text":"hi"}]'
`;

/** The options and exit status `types` and `asyncapi` share. */
const GENERATE_OPTIONS = `Options:
  -o, --out <file>       write to this file (default: stdout)
  -f, --format <format>  text (default), json or github: how problems (or the file written) are reported
  -h, --help             show this help

Exit status:
  0  generated
  1  the policy is not valid
  2  bad usage, or a file that cannot be read or written
`;

export const TYPES_HELP = `Usage: sockguard types [options] <file>

Generate TypeScript declarations of a policy's contract: for each namespace,
<Ns>ClientToServerEvents (its events, ack callbacks typed by each event's reply) and
<Ns>ServerToClientEvents (its emits), one type per argument from its JSON Schema, and
SocketData (socket.data.sockguard), for new Server<...>() and io<...>(). Schema files
referenced with $ref are read as the guard reads them. A policy with errors generates
nothing; its problems are reported as validate reports them.

${GENERATE_OPTIONS}
Examples:
  sockguard types policies/chat.yaml --out src/sockguard-events.ts
`;

export const ASYNCAPI_HELP = `Usage: sockguard asyncapi [options] <file>

Generate an AsyncAPI 3.0 document (YAML) of a policy: a channel per namespace, a receive
operation per event (with its ack reply), a send operation per emit, each message's schema
(schema: is the payload, args: a tuple of the arguments), the issuers as security schemes,
a server per transport and the origins and handshake query as WebSocket bindings. A policy
with errors generates nothing; its problems are reported as validate reports them.

${GENERATE_OPTIONS}
Examples:
  sockguard asyncapi policies/chat.yaml --out asyncapi.yaml
`;
