/**
 * @file Registers tfjs' gradient functions, which training needs (tf.grads / variableGrads).
 *
 * @tensorflow/tfjs-core's CommonJS build (what Node loads) has no gradients; the umbrella
 * @tensorflow/tfjs package normally registers them from tfjs-core's ESM files, which use
 * extensionless relative imports meant for bundlers, so Node cannot import them as they are. We
 * add a Node module resolve hook that retries such imports inside tfjs-core's dist with `.js`,
 * then import `register_all_gradients`. The ESM copy of tfjs-core shares the engine and the
 * gradient registry with the CommonJS one (tfjs keeps both on a global), so the gradients apply
 * to every tensor.
 */
import { register } from 'node:module';

const HOOK = `
export async function resolve(specifier, context, next) {
  try {
    return await next(specifier, context);
  } catch (err) {
    const parent = context.parentURL ?? '';
    if ((err?.code === 'ERR_MODULE_NOT_FOUND' || err?.code === 'ERR_UNSUPPORTED_DIR_IMPORT') && /^\\.\\.?\\//.test(specifier) && !/\\.m?js$/.test(specifier)
        && parent.includes('/@tensorflow/tfjs-core/dist/')) {
      return next(specifier + '.js', context);
    }
    throw err;
  }
}
`;

let done: Promise<void> | null = null;

/** Registers all tfjs gradients once (about a second the first time). */
export function registerGradients(): Promise<void> {
  done ??= (async () => {
    register(`data:text/javascript,${encodeURIComponent(HOOK)}`, import.meta.url);
    await import(/* @vite-ignore */ '@tensorflow/tfjs-core/dist/register_all_gradients.js');
  })();
  return done;
}
