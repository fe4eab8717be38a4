/**
 * Parsers of `mqwire bench`'s numeric options, shared by its interop and RocketMQ modes. They throw
 * commander's InvalidArgumentError, so a bad value is a usage error (exit 2) naming the option.
 */
import { InvalidArgumentError as FlagError } from "commander";

/** A commander parser that accepts a finite number above zero and names the option otherwise. */
export function positive(name: string): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!(n > 0) || !Number.isFinite(n))
      throw new FlagError(`--${name} must be a positive number, got "${v}"`);
    return n;
  };
}

/** A commander parser that accepts a finite number of zero or more. */
export function nonNegative(name: string): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!(n >= 0) || !Number.isFinite(n)) throw new FlagError(`--${name} must be a number >= 0, got "${v}"`);
    return n;
  };
}
