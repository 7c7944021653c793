/** The help texts of the command. */

export const COMMAND_HELP = `Usage: sockguard <command> [options]

Secure a Socket.IO server from one declarative YAML policy.

Commands:
  validate [files...]   check policy files and report every mistake with its file, line and column
  help                  show this help

Options:
  -h, --help            show help (sockguard validate --help for the command's options)
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
