;; bigmin: declares 256 pages (16 MiB) of initial memory.
(module
  (memory (export "memory") 256)
  (func (export "_start")))
