/**
 * @file zod schemas for every Api method's argument, gathered from the handler files where each
 * sits beside its handler: nothing from the UI or the network reaches a service unchecked.
 * Objects are strict, so a misspelt field is an error rather than ignored.
 */
import type { z } from 'zod';
import type { ApiMethod } from '../../shared/api';
import { appSchemas } from './handlers/app';
import { boxesSchemas } from './handlers/boxes';
import { classesSchemas } from './handlers/classes';
import { datasetSchemas } from './handlers/dataset';
import { imagesSchemas } from './handlers/images';
import { jobsSchemas } from './handlers/jobs';
import { modelsSchemas } from './handlers/models';
import { projectSchemas } from './handlers/project';
import { trainSchemas } from './handlers/train';

export const API_SCHEMAS = {
  ...appSchemas,
  ...projectSchemas,
  ...imagesSchemas,
  ...boxesSchemas,
  ...classesSchemas,
  ...datasetSchemas,
  ...trainSchemas,
  ...modelsSchemas,
  ...jobsSchemas,
} satisfies Record<ApiMethod, z.ZodType>;
