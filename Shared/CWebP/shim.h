#ifndef KINDRED_CWEBP_SHIM_H
#define KINDRED_CWEBP_SHIM_H
#include <webp/decode.h>
#include <webp/encode.h>
#endif
