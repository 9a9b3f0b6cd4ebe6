#ifndef KINDRED_CSPNG_SHIM_H
#define KINDRED_CSPNG_SHIM_H
#include <spng.h>
#endif
