# Checks that an invalid scenario is rejected: `hpad-sim validate` and
# `hpad-sim run` both exit 2, and stderr contains the file name and every
# `# expect-error: <text>` line of the scenario (path + problem).
# Usage: cmake -DHPAD_SIM=<exe> -DSCENARIO=<file> -P expect_invalid.cmake
file(STRINGS ${SCENARIO} _expected REGEX "^# expect-error: ")
if(NOT _expected)
  message(FATAL_ERROR "${SCENARIO} has no '# expect-error:' line")
endif()
foreach(_mode validate run)
  execute_process(COMMAND ${HPAD_SIM} ${_mode} ${SCENARIO}
                  RESULT_VARIABLE _rc OUTPUT_VARIABLE _out ERROR_VARIABLE _err)
  if(NOT _rc EQUAL 2)
    message(FATAL_ERROR "hpad-sim ${_mode} exited ${_rc}, wanted 2\nstdout:\n${_out}\nstderr:\n${_err}")
  endif()
  if(_out MATCHES "PASS|FAIL")
    message(FATAL_ERROR "hpad-sim ${_mode} ran an invalid scenario:\n${_out}")
  endif()
  string(FIND "${_err}" "${SCENARIO}" _pos)
  if(_pos EQUAL -1)
    message(FATAL_ERROR "the error does not name the file ${SCENARIO}:\n${_err}")
  endif()
  foreach(_line IN LISTS _expected)
    string(REGEX REPLACE "^# expect-error: " "" _want "${_line}")
    string(FIND "${_err}" "${_want}" _pos)
    if(_pos EQUAL -1)
      message(FATAL_ERROR "hpad-sim ${_mode}: stderr lacks \"${_want}\":\n${_err}")
    endif()
  endforeach()
endforeach()
