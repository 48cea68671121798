/** The three stored resource kinds of hosting. */
import type { Db } from '../../store/db';
import { ResourceRepo } from '../../store/resource-repo';
import type { EndpointConfigDoc, EndpointDoc, EndpointInternal, ModelDoc, NoInternal } from './types';

export interface HostingRepos {
  models: ResourceRepo<ModelDoc, NoInternal>;
  configs: ResourceRepo<EndpointConfigDoc, NoInternal>;
  endpoints: ResourceRepo<EndpointDoc, EndpointInternal>;
}

export function hostingRepos(db: Db): HostingRepos {
  return {
    models: new ResourceRepo<ModelDoc, NoInternal>(db, 'model'),
    configs: new ResourceRepo<EndpointConfigDoc, NoInternal>(db, 'endpoint-config'),
    endpoints: new ResourceRepo<EndpointDoc, EndpointInternal>(db, 'endpoint'),
  };
}
