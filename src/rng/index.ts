// Public entry for counter-based randomness: Philox4x32-10, exact samplers and deterministic f32 math shared with the WGSL kernels.
export { philox4x32_10, philoxInto, mulHi32, rngCreate, rngReset, rngNextU32, seedToKey, type Rng } from './philox.ts';
export { rngUniform, rngNormal, rngBernoulli, rngPoisson, rngBinomial, rngPoissonLogPmf, rngBinomialLogPmf, rngStirlerr, rngBd0 } from './samplers.ts';
export { detExp, detLog, detLog1p, detRecip, detSqrt, detNormalCdf, detLogistic, detCos2Pi, detU32ToF32, f32Bits, f32FromBits } from './detmath.ts';
