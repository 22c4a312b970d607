// Entry of the wasm kernels module (src/wasm/kernels.generated.ts embeds its binary; `npm run build:wasm`).
export { detExp, detLog, detLog1p, detRecip, detSqrt, detNormalCdf, detLogistic, detCos2Pi, detU32ToF32 } from './detmath';
export { philox4x32_10, rngReset, rngNextU32, rngUniform, rngNormal, rngBernoulli, rngPoisson, rngBinomial, rngPoissonLogPmf, rngBinomialLogPmf, rngStirlerr, rngBd0, rngPoissonWithCache, POISSON_CACHE_BYTES, THREAD_SCRATCH_BYTES } from './rng';
export { simdTest, simdTestInversion } from './simd';
export { poissonStep, poissonStepRange, populationMoments } from './poisson';
export { hybridInit, hybridStep, hybridStepRange, hybridRecord } from './hybrid';
export { binaryInit, binaryRunInstance, binaryBuildRange, binaryStepRange, binaryFinishStep } from './binary';
export { philox4x32_10x4 } from './philox-x4';
export { minimaxInit, minimaxRun, minimaxDecide, minimaxUpdate } from './minimax';
export { rateRun, rateTanhArray } from './rate';
