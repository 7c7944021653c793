/** Type-checks files with the project's TypeScript under `--strict`, as an app using sockguard's generated types would. */
import ts from "typescript";

/**
 * The problems tsc finds in `files` (under `--strict`, NodeNext modules), as `FILE:LINE message`
 * with FILE relative to `base`; `only` limits them to one file.
 *
 * @example
 * expect(strictProblems([join(dir, "app.ts")], dir)).to.deep.equal([]);
 */
export function strictProblems(
  files: readonly string[],
  base: string,
  options: ts.CompilerOptions = {},
  only?: string,
): string[] {
  const program = ts.createProgram([...files], {
    strict: true,
    noEmit: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    skipLibCheck: true,
    types: ["node"],
    ...options,
  });
  const file = only === undefined ? undefined : program.getSourceFile(only);
  return ts.getPreEmitDiagnostics(program, file).map((diagnostic) => {
    const where = diagnostic.file
      ? `${diagnostic.file.fileName.slice(base.length + 1)}:${diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start ?? 0).line + 1}`
      : "";
    return `${where} ${ts.flattenDiagnosticMessageText(diagnostic.messageText, "\n")}`;
  });
}
