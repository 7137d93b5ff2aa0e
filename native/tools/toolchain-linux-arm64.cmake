# CMake toolchain for cross-compiling the addon to linux-arm64 (aarch64, glibc) on an x86-64 Debian host
# with Debian's cross compilers (apt-get install g++-aarch64-linux-gnu, or crossbuild-essential-arm64).
# Used by native/tools/prebuild-cross.mjs; by hand:
#   npx cmake-js build --out build-arm64 --CDCMAKE_TOOLCHAIN_FILE=native/tools/toolchain-linux-arm64.cmake
# MPF_CROSS_PREFIX overrides the compilers' prefix (default aarch64-linux-gnu-).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

if(NOT DEFINED MPF_CROSS_PREFIX)
  if(DEFINED ENV{MPF_CROSS_PREFIX})
    set(MPF_CROSS_PREFIX "$ENV{MPF_CROSS_PREFIX}")
  else()
    set(MPF_CROSS_PREFIX aarch64-linux-gnu-)
  endif()
endif()
set(CMAKE_C_COMPILER ${MPF_CROSS_PREFIX}gcc)
set(CMAKE_CXX_COMPILER ${MPF_CROSS_PREFIX}g++)
set(CMAKE_STRIP ${MPF_CROSS_PREFIX}strip CACHE FILEPATH "strip for the target")

# Libraries and headers come from the cross toolchain's own folders (/usr/aarch64-linux-gnu), never
# from the host's; programs (cmake's helpers) from the host.
set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
