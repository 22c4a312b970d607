// The one list of models. Every layer above (engine, CLI, sweeps, reproductions, bench, demo) finds models here;
// adding a model is its folder under src/models/, its shaders under shaders/, and one line below.
import type { AnyModel } from '../core/contract.ts';
import { poissonModel } from './poisson/index.ts';
import { hybridModel } from './hybrid/index.ts';
import { binaryModel } from './binary/index.ts';
import { rateModel } from './rate/index.ts';
import { minimaxModel } from './minimax/index.ts';

export const modelList: readonly AnyModel[] = [
  poissonModel,
  hybridModel,
  binaryModel,
  rateModel,
  minimaxModel,
];
