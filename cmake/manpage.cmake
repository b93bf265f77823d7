# Builds one man page: IN with @VERSION@, @DATE@ and @COMMANDS@ replaced, the
# last by the output of EXE ARGS (ARGS separated by '|'), gzipped to OUT.
# cmake -DIN=... -DOUT=... -DEXE=... -DARGS=... -DVERSION=... -P manpage.cmake
cmake_minimum_required(VERSION 3.18)
file(READ "${IN}" text)
if(EXE)
  string(REPLACE "|" ";" args "${ARGS}")
  execute_process(COMMAND "${EXE}" ${args} OUTPUT_VARIABLE body RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${EXE} ${ARGS} failed (${rc})")
  endif()
  string(REPLACE "@COMMANDS@\n" "${body}" text "${text}")
endif()
# the date of the source, not of the build, so that builds are reproducible
file(TIMESTAMP "${IN}" date "%Y-%m-%d" UTC)
string(REPLACE "@VERSION@" "${VERSION}" text "${text}")
string(REPLACE "@DATE@" "${date}" text "${text}")
get_filename_component(plain "${OUT}" NAME_WLE)
get_filename_component(dir "${OUT}" DIRECTORY)
file(WRITE "${dir}/${plain}" "${text}")
execute_process(COMMAND gzip -9nf "${dir}/${plain}" RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "gzip failed")
endif()
