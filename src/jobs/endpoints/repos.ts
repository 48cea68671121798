/** The three stored resource kinds of hosting. */
import type { Db } from '../../store/db';
import { ResourceRepo } from '../../store/resource-repo';
import type { EndpointConfigDoc, EndpointDoc, EndpointInternal, ModelDoc, TaggedInternal } from './types';

export interface HostingRepos {
  models: ResourceRepo<ModelDoc, TaggedInternal>;
  configs: ResourceRepo<EndpointConfigDoc, TaggedInternal>;
  endpoints: ResourceRepo<EndpointDoc, EndpointInternal>;
}

export function hostingRepos(db: Db): HostingRepos {
  return {
    models: new ResourceRepo<ModelDoc, TaggedInternal>(db, 'model'),
    configs: new ResourceRepo<EndpointConfigDoc, TaggedInternal>(db, 'endpoint-config'),
    endpoints: new ResourceRepo<EndpointDoc, EndpointInternal>(db, 'endpoint'),
  };
}
