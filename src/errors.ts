// One error shape for everything herald reports: what went wrong, where, and how to fix it.
// Problems are values (a bad post is reported and skipped); HeraldError carries one when a
// command cannot go on at all (a broken config). Only the CLI prints them and sets exit codes.

export type ProblemCode =
  | 'E_CONFIG'
  | 'E_CONFIG_YAML'
  | 'E_CONFIG_MISSING'
  | 'E_POST_READ'
  | 'E_POST_YAML'
  | 'E_POST_FIELD'
  | 'E_POST_DATE'
  | 'E_POST_SLUG'
  | 'E_POST_SYNTAX'
  | 'E_SUBSCRIBERS'
  | 'E_SUBSCRIBER'
  | 'E_TEMPLATE'
  | 'E_LOCKED'
  | 'E_SEND'
  | 'E_SECRET'
  | 'E_STATE'
  | 'E_OUTPUT'
  | 'E_DKIM'
  | 'E_USAGE';

export interface Problem {
  code: ProblemCode;
  /** Path as the user would type it (relative to the working directory where possible). */
  file?: string;
  line?: number;
  /** The config key or front matter field at fault. */
  field?: string;
  message: string;
  hint?: string;
}

export class HeraldError extends Error {
  /** Everything found wrong at once (a config can have several bad keys); the first is `problem`. */
  readonly problems: [Problem, ...Problem[]];
  constructor(problem: Problem, ...more: Problem[]) {
    super([problem, ...more].map(formatProblem).join('\n'));
    this.name = 'HeraldError';
    this.problems = [problem, ...more];
  }
  get problem(): Problem {
    return this.problems[0];
  }
  get code(): ProblemCode {
    return this.problem.code;
  }
}

export function formatProblem(problem: Problem): string {
  const where = problem.file ? `${problem.file}${problem.line ? `:${problem.line}` : ''}: ` : '';
  const hint = problem.hint ? ` (${problem.hint})` : '';
  return `${where}${problem.message}${hint}`;
}
