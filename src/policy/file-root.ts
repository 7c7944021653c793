/**
 * The directory tree a policy's files must stay in: its own directory, or a root the user names
 * (`sockguard validate --root`, `baseDir` for a policy object). A `$ref` or key file that resolves
 * outside it, by `..`, an absolute path or a symbolic link, is refused before anything is opened,
 * so a policy from an untrusted pull request cannot make a CI job read `/proc/self/environ`.
 */
import { realpath } from "node:fs/promises";
import { isAbsolute, relative, resolve, sep } from "node:path";

export type Admission =
  | { readonly ok: true; /** The path to open: symbolic links already followed. */ readonly open: string }
  | { readonly ok: false; readonly problem: string };

export class FileRoot {
  /** The root as given, absolute. */
  readonly path: string;
  /** The root with its symbolic links resolved. */
  readonly #real: string;

  private constructor(path: string, real: string) {
    this.path = path;
    this.#real = real;
  }

  /**
   * @example
   * const root = await FileRoot.at("/srv/policies");
   * const admitted = await root.admit("/srv/policies/schemas/message.json");
   * if (admitted.ok) await readSourceFile(admitted.open);
   */
  static async at(directory: string): Promise<FileRoot> {
    const path = resolve(directory);
    return new FileRoot(path, await realpath(path).catch(() => path));
  }

  /**
   * Whether `path` (absolute) may be read: it lies inside the root as written and, once its
   * symbolic links are followed, still inside the root. A file that does not exist is admitted as
   * written (opening it then fails as missing, and a watcher may wait for it).
   */
  async admit(path: string): Promise<Admission> {
    if (!isInside(path, this.path) && !isInside(path, this.#real)) {
      return {
        ok: false,
        problem: `it is outside ${this.path}, the directory the policy's files must stay in`,
      };
    }
    let real: string;
    try {
      real = await realpath(path);
    } catch {
      return { ok: true, open: path };
    }
    if (!isInside(real, this.#real)) {
      return {
        ok: false,
        problem: `a symbolic link leads it outside ${this.path}, the directory the policy's files must stay in`,
      };
    }
    return { ok: true, open: real };
  }
}

function isInside(path: string, directory: string): boolean {
  const shown = relative(directory, path);
  return shown === "" || (shown !== ".." && !shown.startsWith(`..${sep}`) && !isAbsolute(shown));
}
