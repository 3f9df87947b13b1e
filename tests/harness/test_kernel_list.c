/* test_kernel_list.c — the `kernels` cell (harness/measure/kernel_list.c):
 * kernels in launch order, a kernel launched again at once counted instead of
 * repeated, the anonymous namespace dropped, and a list too long for its cell
 * cut at a kernel's end with "; ...". */
#include "measure/kernel_list.h"

#include "test_util.h"

static void test_order_and_counts(void)
{
    char list[256] = "";
    kernel_list_add(list, sizeof list, "landmarks_kernel<__nv_bfloat16>");
    kernel_list_add(list, sizeof list, "(anonymous namespace)::select_one_pass<__nv_bfloat16, 64>");
    kernel_list_add(list, sizeof list, "(anonymous namespace)::select_one_pass<__nv_bfloat16, 64>");
    kernel_list_add(list, sizeof list, "(anonymous namespace)::select_one_pass<__nv_bfloat16, 64>");
    kernel_list_add(list, sizeof list, "route<int, x1>");
    kernel_list_add(list, sizeof list, "landmarks_kernel<__nv_bfloat16>");
    CHECK_STR(list, "landmarks_kernel<__nv_bfloat16>; select_one_pass<__nv_bfloat16, 64> x3; "
                    "route<int, x1>; landmarks_kernel<__nv_bfloat16>");
    /* A name that itself ends like a count is not one. */
    char again[64] = "";
    kernel_list_add(again, sizeof again, "route<int, x1>");
    kernel_list_add(again, sizeof again, "route<int, x1>");
    CHECK_STR(again, "route<int, x1> x2");
    /* Counts past nine. */
    char many[64] = "";
    for (int i = 0; i < 12; i++) kernel_list_add(many, sizeof many, "k");
    CHECK_STR(many, "k x12");
}

static void test_full(void)
{
    char list[32] = "";
    kernel_list_add(list, sizeof list, "first_kernel");  /* 12 */
    kernel_list_add(list, sizeof list, "second");        /* 12 + 8 = 20, and "; ..." fits */
    CHECK_STR(list, "first_kernel; second");
    kernel_list_add(list, sizeof list, "third_kernel");  /* would be 34 */
    CHECK_STR(list, "first_kernel; second; ...");
    kernel_list_add(list, sizeof list, "fourth");        /* full: no more */
    CHECK_STR(list, "first_kernel; second; ...");
    CHECK(strlen(list) < sizeof list);

    char tiny[8] = "";
    kernel_list_add(tiny, sizeof tiny, "a_long_kernel_name");
    CHECK_STR(tiny, "...");
    kernel_list_add(tiny, sizeof tiny, "k");
    CHECK_STR(tiny, "...");
}

int main(void)
{
    test_order_and_counts();
    test_full();
    return check_exit("test_kernel_list");
}
