import * as z from 'zod';

/** Mirrors dagster-pipes `PipesException`: all five keys are required by the Python host. */
export interface PipesException {
  message: string;
  stack: string[];
  name: string | null;
  cause: PipesException | null;
  context: PipesException | null;
}

export const PipesException: z.ZodType<PipesException> = z.lazy(() =>
  z.object({
    message: z.string(),
    stack: z.array(z.string()),
    name: z.string().nullable(),
    cause: PipesException.nullable(),
    context: PipesException.nullable(),
  }),
);
