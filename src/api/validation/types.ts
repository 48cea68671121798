/** The validation facts kept per shape in constraints.json. */
export interface ShapeFacts {
  t: string;
  req?: string[];
  m?: Record<string, string>;
  member?: string;
  k?: string;
  v?: string;
  min?: number;
  max?: number;
  pattern?: string;
  enum?: string[];
}
