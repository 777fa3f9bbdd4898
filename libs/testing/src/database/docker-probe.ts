import { dockerHints } from './real-postgres.cjs';

const PROBE_TIMEOUT_MS = 4000;
let answer: Promise<boolean> | undefined;

/**
 * True when testcontainers reaches a Docker engine. Cheap detection first; then the real probe, raced against a
 * timeout because it hangs forever on a socket that accepts and never answers (reference/toolchain.md).
 */
export function dockerEngineAnswers(): Promise<boolean> {
  answer ??= probe();
  return answer;
}

async function probe(): Promise<boolean> {
  if (dockerHints().length === 0) return false;
  const { getContainerRuntimeClient } = await import('testcontainers');
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), PROBE_TIMEOUT_MS);
  });
  try {
    return await Promise.race([
      getContainerRuntimeClient().then(
        () => true,
        () => false,
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
