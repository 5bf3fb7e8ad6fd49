import { z } from 'zod';

const compiles = (pattern: string): boolean => {
  try {
    new RegExp(pattern);
    return true;
  } catch {
    return false;
  }
};

/** A regular expression as a fault rule writes it; refused when it does not compile. */
export const RegexPatternSchema = z
  .string()
  .min(1)
  .refine(compiles, { message: 'not a valid regular expression' });
