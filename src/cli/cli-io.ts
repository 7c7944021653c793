/** Where a command writes, and what it knows about its surroundings. */
export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** Paths in output are shown relative to this directory when they are inside it. */
  readonly cwd: string;
  /** Colour the text output (a terminal, and NO_COLOR unset). */
  readonly colour: boolean;
}
