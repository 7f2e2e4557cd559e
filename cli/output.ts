/** What every command module gets from cli/main.ts to write its answer: JSON with --json, else lines with escapes shown. */
export interface CliOutput {
  print(value: unknown, human: () => string): void;
  line(strings: TemplateStringsArray, ...values: unknown[]): string;
}
