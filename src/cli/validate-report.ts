/** What `sockguard validate` found, as its formatters read it: the types they share with it. */
import type { Diagnostic } from "../policy/diagnostic.js";

export const OUTPUT_FORMATS = ["text", "json", "github"] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export interface ValidateOptions {
  readonly format: OutputFormat;
  /** Warnings make a file invalid too. */
  readonly strict: boolean;
  /** The directory `$ref`s and key files must stay inside (relative to the cwd); each policy's own by default. */
  readonly root?: string;
}

/** A diagnostic as shown: its file relative to the working directory when inside it; line 0 when it has no position. */
export type ShownDiagnostic = Omit<Diagnostic, "file"> & { readonly file: string };

/** The outcome for one file given on the command line. */
export interface FileReport {
  /** The file as shown (relative to the working directory when inside it). */
  readonly file: string;
  /** False when the file could not be read at all. */
  readonly readable: boolean;
  readonly valid: boolean;
  readonly diagnostics: readonly ShownDiagnostic[];
  /** Every file the policy depends on (itself, schema files, key files), as shown. */
  readonly files: readonly string[];
  /** The policy's version hash, when it could be read. */
  readonly version?: string;
}

export interface Summary {
  readonly files: number;
  readonly errors: number;
  readonly warnings: number;
  readonly invalidFiles: number;
  readonly unreadableFiles: number;
  readonly strict: boolean;
}
