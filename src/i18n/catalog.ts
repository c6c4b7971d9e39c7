/** A translation of catalog `E`: the same keys, each an ICU message. */
export type Catalog<E> = { readonly [K in keyof E]: string };
