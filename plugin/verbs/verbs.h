// One entry point per verb, each defined in plugin/verbs/cmd_<verb>.cpp.
#pragma once

namespace ksc::cli {

int cmd_version(int argc, char** argv);
int cmd_convert(int argc, char** argv);
int cmd_merge(int argc, char** argv);
int cmd_diff(int argc, char** argv);
int cmd_explain(int argc, char** argv);
int cmd_trace(int argc, char** argv);
int cmd_record(int argc, char** argv);
int cmd_check(int argc, char** argv);
int cmd_recover(int argc, char** argv);
int cmd_push(int argc, char** argv);
int cmd_pull(int argc, char** argv);
int cmd_rbac(int argc, char** argv);
int cmd_completion(int argc, char** argv);

}  // namespace ksc::cli
