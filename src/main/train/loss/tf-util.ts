/**
 * @file Small tfjs helpers for the loss: custom gradients of one-tensor functions, and a
 * stop-gradient (torch's `.detach()` / `torch.no_grad()` inside a graph).
 */
import * as tf from '@tensorflow/tfjs-core';

type OneTensorGrad = (x: tf.Tensor, save: tf.GradSaveFunc) => { value: tf.Tensor; gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor };

/**
 * tf.customGrad for a function of one tensor. Constants the gradient needs must go through
 * `save` (saved tensors outlive the tidy that made them; closed-over ones do not).
 */
export function customGrad1(f: OneTensorGrad): (x: tf.Tensor) => tf.Tensor {
  const g = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => f(args[0] as tf.Tensor, args[1] as tf.GradSaveFunc));
  return (x) => g(x);
}

/** Identity whose gradient is zero. */
export function stopGradient<T extends tf.Tensor>(x: T): T {
  return customGrad1((t) => ({ value: tf.clone(t), gradFunc: (dy) => tf.zerosLike(dy) }))(x) as T;
}
