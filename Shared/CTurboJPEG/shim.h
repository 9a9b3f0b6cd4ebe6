#ifndef KINDRED_CTURBOJPEG_SHIM_H
#define KINDRED_CTURBOJPEG_SHIM_H
#include <turbojpeg.h>
#endif
