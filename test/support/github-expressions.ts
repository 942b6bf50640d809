// A small evaluator for GitHub Actions expressions (${{ ... }}), enough for Fridge's workflows:
// context paths, string/number/boolean literals, ! && || == != ( ), and the functions
// format, contains, startsWith, endsWith, toJSON, always, success, failure, cancelled.
// Paths that resolve to nothing are collected, so a test can catch a secret or input it forgot to provide.

export type ExprValue = string | number | boolean | null | undefined | ExprObject | ExprValue[];
export interface ExprObject {
  [key: string]: ExprValue;
}

export interface ExprScope {
  context: ExprObject;
  /** Job status functions: success() is true until a step failed. */
  failed: boolean;
  /** Dotted paths that were read but undefined (GitHub turns them into ''). */
  unresolved: Set<string>;
}

type Token =
  | { t: 'str'; v: string }
  | { t: 'num'; v: number }
  | { t: 'id'; v: string }
  | { t: 'op'; v: string };

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === "'") {
      let s = '';
      i++;
      for (;;) {
        if (i >= src.length) throw new Error(`unterminated string in expression: ${src}`);
        if (src[i] === "'" && src[i + 1] === "'") {
          s += "'";
          i += 2;
        } else if (src[i] === "'") {
          i++;
          break;
        } else {
          s += src[i++];
        }
      }
      out.push({ t: 'str', v: s });
    } else if (/[0-9]/.test(c)) {
      const m = /^[0-9]+(\.[0-9]+)?/.exec(src.slice(i))!;
      out.push({ t: 'num', v: Number(m[0]) });
      i += m[0].length;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_-]*/.exec(src.slice(i))!;
      out.push({ t: 'id', v: m[0] });
      i += m[0].length;
    } else {
      const two = src.slice(i, i + 2);
      if (['&&', '||', '==', '!=', '<=', '>='].includes(two)) {
        out.push({ t: 'op', v: two });
        i += 2;
      } else if ('!().,[]<>*'.includes(c)) {
        out.push({ t: 'op', v: c });
        i++;
      } else {
        throw new Error(`unexpected '${c}' in expression: ${src}`);
      }
    }
  }
  return out;
}

export function truthy(v: ExprValue): boolean {
  return !(v === undefined || v === null || v === false || v === '' || v === 0);
}

export function toText(v: ExprValue): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

function looseEquals(a: ExprValue, b: ExprValue): boolean {
  if (typeof a === 'string' && typeof b === 'string') return a.toLowerCase() === b.toLowerCase();
  if (typeof a === 'number' || typeof b === 'number') return Number(a) === Number(b);
  return (a ?? null) === (b ?? null);
}

class Parser {
  private pos = 0;
  constructor(
    private readonly tokens: Token[],
    private readonly scope: ExprScope,
    private readonly src: string,
  ) {}

  parse(): ExprValue {
    const v = this.or();
    if (this.pos < this.tokens.length) throw new Error(`unexpected token in expression: ${this.src}`);
    return v;
  }

  private peekOp(v: string): boolean {
    const t = this.tokens[this.pos];
    return t !== undefined && t.t === 'op' && t.v === v;
  }

  private expectOp(v: string): void {
    if (!this.peekOp(v)) throw new Error(`expected '${v}' in expression: ${this.src}`);
    this.pos++;
  }

  private or(): ExprValue {
    let left = this.and();
    while (this.peekOp('||')) {
      this.pos++;
      const right = this.and();
      left = truthy(left) ? left : right;
    }
    return left;
  }

  private and(): ExprValue {
    let left = this.eq();
    while (this.peekOp('&&')) {
      this.pos++;
      const right = this.eq();
      left = truthy(left) ? right : left;
    }
    return left;
  }

  private eq(): ExprValue {
    const left = this.unary();
    if (this.peekOp('==') || this.peekOp('!=')) {
      const negate = this.peekOp('!=');
      this.pos++;
      const right = this.unary();
      return negate !== looseEquals(left, right);
    }
    return left;
  }

  private unary(): ExprValue {
    if (this.peekOp('!')) {
      this.pos++;
      return !truthy(this.unary());
    }
    return this.primary();
  }

  private primary(): ExprValue {
    const t = this.tokens[this.pos++];
    if (!t) throw new Error(`unexpected end of expression: ${this.src}`);
    if (t.t === 'str' || t.t === 'num') return t.v;
    if (t.t === 'op' && t.v === '(') {
      const v = this.or();
      this.expectOp(')');
      return v;
    }
    if (t.t !== 'id') throw new Error(`unexpected '${t.v}' in expression: ${this.src}`);
    if (t.v === 'true') return true;
    if (t.v === 'false') return false;
    if (t.v === 'null') return null;
    if (this.peekOp('(')) return this.call(t.v);
    return this.path(t.v);
  }

  private call(name: string): ExprValue {
    this.expectOp('(');
    const args: ExprValue[] = [];
    while (!this.peekOp(')')) {
      args.push(this.or());
      if (this.peekOp(',')) this.pos++;
    }
    this.expectOp(')');
    switch (name) {
      case 'format':
        return toText(args[0]).replace(/\{(\d+)\}/g, (_, n: string) => toText(args[Number(n) + 1]));
      case 'contains': {
        const [hay, needle] = args;
        if (Array.isArray(hay)) return hay.some((x) => looseEquals(x, needle ?? null));
        return toText(hay).toLowerCase().includes(toText(needle).toLowerCase());
      }
      case 'startsWith':
        return toText(args[0]).toLowerCase().startsWith(toText(args[1]).toLowerCase());
      case 'endsWith':
        return toText(args[0]).toLowerCase().endsWith(toText(args[1]).toLowerCase());
      case 'toJSON':
        return JSON.stringify(args[0] ?? null, null, 2);
      case 'always':
        return true;
      case 'success':
        return !this.scope.failed;
      case 'failure':
        return this.scope.failed;
      case 'cancelled':
        return false;
      default:
        throw new Error(`unsupported function ${name}() in expression: ${this.src}`);
    }
  }

  private path(root: string): ExprValue {
    const parts = [root];
    let value: ExprValue = this.scope.context[root];
    for (;;) {
      let key: string;
      if (this.peekOp('.')) {
        this.pos++;
        const t = this.tokens[this.pos++];
        if (!t || t.t !== 'id') throw new Error(`expected a property name in expression: ${this.src}`);
        key = t.v;
      } else if (this.peekOp('[')) {
        this.pos++;
        key = toText(this.or());
        this.expectOp(']');
      } else {
        break;
      }
      parts.push(key);
      value = value !== null && typeof value === 'object' && !Array.isArray(value) ? value[key] : undefined;
    }
    if (value === undefined) this.scope.unresolved.add(parts.join('.'));
    return value;
  }
}

export function evaluate(expr: string, scope: ExprScope): ExprValue {
  return new Parser(tokenize(expr), scope, expr).parse();
}

/** Replaces every ${{ ... }} in a string with its value as text. */
export function interpolate(text: string, scope: ExprScope): string {
  return text.replace(/\$\{\{([\s\S]*?)\}\}/g, (_, expr: string) => toText(evaluate(expr, scope)));
}

/** A step's or job's `if:`: a bare expression, with or without ${{ }}. */
export function condition(text: string | boolean | undefined, scope: ExprScope, defaultFn = 'success()'): boolean {
  if (typeof text === 'boolean') return text;
  const raw = (text ?? '').trim();
  const m = /^\$\{\{([\s\S]*)\}\}$/.exec(raw);
  const expr = m ? m[1]! : raw;
  if (!expr.trim()) return truthy(evaluate(defaultFn, scope));
  // GitHub adds success() unless the condition already calls a status function.
  const hasStatus = /\b(always|success|failure|cancelled)\s*\(/.test(expr);
  return truthy(evaluate(hasStatus ? expr : `${defaultFn} && (${expr})`, scope));
}
