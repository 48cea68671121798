/**
 * CreateAlgorithm, DescribeAlgorithm, ListAlgorithms, DeleteAlgorithm.
 * Input arrives validated against the model; src/jobs/algorithms does the rest.
 */
import type { Algorithms } from '../../jobs/algorithms/algorithms';
import type { AlgorithmRequest } from '../../jobs/algorithms/definition-checks';
import type { ListQuery } from '../../store/resource-repo';
import type { JsonHandler } from '../registry';

export function algorithmHandlers(algorithms: Algorithms): Record<string, JsonHandler> {
  return {
    CreateAlgorithm: (input) => algorithms.create(input as AlgorithmRequest),
    DescribeAlgorithm: (input) => algorithms.describe(String(input.AlgorithmName)),
    ListAlgorithms: (input) => algorithms.list(input as ListQuery),
    DeleteAlgorithm: (input) => {
      algorithms.delete(String(input.AlgorithmName));
      return {};
    },
  };
}
