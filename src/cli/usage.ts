/** The help texts of the command. */

export const COMMAND_HELP = `Usage: sockguard <command> [options]

Secure a Socket.IO server from one declarative YAML policy.

Commands:
  validate [files...]   check policy files and report every mistake with its file, line and column
  doctor [dir]          check the installed socket.io stack against known advisories (offline)
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
  -h, --help             show this help

Exit status:
  0  every file is valid
  1  some file is not valid
  2  bad usage, or a file that cannot be read

Examples:
  sockguard validate policies/chat.yaml
  npx sockguard validate policies/*.yaml --format github --strict
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
